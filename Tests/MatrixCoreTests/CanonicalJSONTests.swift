import Testing
@testable import MatrixCore

/// The canonical JSON examples from the spec appendix ("Canonical JSON", "Examples"),
/// each parsed from its pretty-printed input and compared byte for byte.
@Suite struct CanonicalJSONTests {
    static let examples: [(input: String, canonical: String)] = [
        ("{}", "{}"),
        ("""
        {
            "one": 1,
            "two": "Two"
        }
        """, #"{"one":1,"two":"Two"}"#),
        ("""
        {
            "b": "2",
            "a": "1"
        }
        """, #"{"a":"1","b":"2"}"#),
        (#"{"b":"2","a":"1"}"#, #"{"a":"1","b":"2"}"#),
        ("""
        {
            "auth": {
                "success": true,
                "mxid": "@john.doe:example.com",
                "profile": {
                    "display_name": "John Doe",
                    "three_pids": [
                        {
                            "medium": "email",
                            "address": "john.doe@example.org"
                        },
                        {
                            "medium": "msisdn",
                            "address": "123456789"
                        }
                    ]
                }
            }
        }
        """, #"{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}"#),
        ("""
        {
            "a": "日本語"
        }
        """, #"{"a":"日本語"}"#),
        ("""
        {
            "本": 2,
            "日": 1
        }
        """, #"{"日":1,"本":2}"#),
        ("""
        {
            "a": "\\u65E5"
        }
        """, #"{"a":"日"}"#),
        ("""
        {
            "a": null
        }
        """, #"{"a":null}"#),
        ("""
        {
            "a": -0,
            "b": 1e10
        }
        """, #"{"a":0,"b":10000000000}"#),
    ]

    @Test(arguments: examples)
    func specExample(input: String, canonical: String) throws {
        let value = try JSON.parse(input)
        #expect(value.canonicalBytes == Array(canonical.utf8))
    }

    @Test func controlCharactersUseShortestEscapes() throws {
        let value = try JSON.parse(#"{"a":"\u0001\b\t\n\f\r\"\\\u001f/"}"#)
        #expect(value.canonicalString == #"{"a":"\u0001\b\t\n\f\r\"\\\u001f/"}"#)
    }
}
