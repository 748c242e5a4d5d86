import MatrixCore
import Testing

@Suite struct PercentEncodingTests {
    @Test func decodesEscapesIncludingMultiByteCharacters() {
        #expect(PercentEncoding.decode("%21room%3Aexample.org") == "!room:example.org")
        #expect(PercentEncoding.decode("caf%C3%A9") == "café")
        #expect(PercentEncoding.decode("no escapes here") == "no escapes here")
    }

    @Test func plusIsASpaceOnlyInQueryStrings() {
        #expect(PercentEncoding.decode("a+b%2Bc", plusAsSpace: true) == "a b+c")
        #expect(PercentEncoding.decode("a+b") == "a+b")
    }

    @Test(arguments: ["%", "%4", "%zz", "abc%g1"])
    func aMalformedEscapeIsNil(_ text: String) {
        #expect(PercentEncoding.decode(Substring(text)) == nil)
    }
}
