import Foundation
import Testing
@testable import MatrixCore

@Suite struct Base64Tests {
    /// The examples listed in the spec appendix "Unpadded Base64".
    static let specExamples: [(String, String)] = [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"),
        ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: specExamples)
    func encodesSpecExamples(plain: String, encoded: String) {
        #expect(Base64.encodeUnpadded(Array(plain.utf8)) == encoded)
    }

    @Test(arguments: specExamples)
    func decodesSpecExamplesUnpaddedAndPadded(plain: String, encoded: String) {
        #expect(Base64.decode(encoded) == Array(plain.utf8))
        let padded = encoded + String(repeating: "=", count: (4 - encoded.count % 4) % 4)
        #expect(Base64.decode(padded) == Array(plain.utf8))
    }

    @Test func urlSafeUsesMinusAndUnderscore() {
        // 0xFB 0xFF encodes to characters 62 and 63 of the alphabet.
        let bytes: [UInt8] = [0xFB, 0xEF, 0xFF]
        #expect(Base64.encodeUnpadded(bytes) == "++//")
        #expect(Base64.encodeURLSafeUnpadded(bytes) == "--__")
        #expect(Base64.decodeURLSafe("--__") == bytes)
        #expect(Base64.decode("--__") == nil)
        #expect(Base64.decodeURLSafe("++//") == nil)
    }

    @Test func agreesWithFoundationOnRandomData() {
        var rng = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let reference = Data(bytes).base64EncodedString()
            let unpadded = String(reference.prefix { $0 != "=" })
            #expect(Base64.encodeUnpadded(bytes) == unpadded)
            #expect(Base64.decode(reference) == bytes)
            #expect(Base64.decode(unpadded) == bytes)
            let urlSafe = unpadded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            #expect(Base64.encodeURLSafeUnpadded(bytes) == urlSafe)
            #expect(Base64.decodeURLSafe(urlSafe) == bytes)
        }
    }

    @Test func toleratesNonZeroTrailingBits() {
        // "Zh" and "Zg" differ only in bits past the last whole byte.
        #expect(Base64.decode("Zh") == Array("f".utf8))
        #expect(Base64.decode("Zm9=") == Array("fo".utf8))
    }

    @Test(arguments: ["Z", "Zg=", "Zg===", "Zm9v=", "Z=g", "Zm9v!", "Zm 9v", "===="])
    func rejectsMalformedInput(_ input: String) {
        #expect(Base64.decode(input) == nil)
    }
}

@Suite struct HexTests {
    @Test func encodesLowercaseTwoDigitsPerByte() {
        #expect(Hex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Hex.encode([UInt8]()) == "")
    }
}
