import FederationClient
import MatrixCore
import Testing

@Suite struct XMatrixHeaderTests {
    @Test func parsesTheSpecExample() throws {
        let h = #"X-Matrix origin="origin.hs.example.com",destination="destination.hs.example.com",key="ed25519:key1",sig="ABCDEF...""#
        let a = try XMatrixAuthorization.parse(h)
        #expect(a == XMatrixAuthorization(origin: "origin.hs.example.com", destination: "destination.hs.example.com",
                                          keyID: "ed25519:key1", signature: "ABCDEF..."))
    }

    @Test func acceptsWhatRFC9110Allows() throws {
        // Any case for scheme and names, spaces and tabs around commas, unquoted tokens with
        // colons (older senders), escapes in quoted values, unknown parameters.
        let h = "x-matrix  Origin=example.org:8448 ,\tKEY=\"ed25519:a_b\",  sig=\"x\\\"y\" , extra=1,destination=dest.org"
        let a = try XMatrixAuthorization.parse(h)
        #expect(a.origin == "example.org:8448")
        #expect(a.keyID == "ed25519:a_b")
        #expect(a.signature == "x\"y")
        #expect(a.destination == "dest.org")
    }

    @Test func destinationIsOptionalForOlderSenders() throws {
        let a = try XMatrixAuthorization.parse(#"X-Matrix origin="a.org",key="ed25519:1",sig="s""#)
        #expect(a.destination == nil)
    }

    @Test(arguments: [
        ("Bearer abc", XMatrixParseError.notXMatrix),
        ("X-Matrix", .notXMatrix),
        ("X-Matrixorigin=a", .notXMatrix),
        (#"X-Matrix key="ed25519:1",sig="s""#, .missing("origin")),
        (#"X-Matrix origin="a.org",sig="s""#, .missing("key")),
        (#"X-Matrix origin="a.org",key="ed25519:1""#, .missing("sig")),
        (#"X-Matrix origin="a.org",origin="b.org",key="k",sig="s""#, .malformed("parameter origin given twice")),
        (#"X-Matrix key="k",sig="s",origin="a.org"#, .malformed("unterminated quoted value")),
        (#"X-Matrix origin"#, .malformed("parameter without a value")),
        (#"X-Matrix origin="a" key="k""#, .malformed("expected a comma between parameters")),
    ])
    func rejectsMalformedHeaders(header: String, expected: XMatrixParseError) {
        #expect(throws: expected) { try XMatrixAuthorization.parse(header) }
    }

    @Test func headerWeSendParsesBack() throws {
        let a = XMatrixAuthorization(origin: "a.org:8448", destination: "[::1]:8448", keyID: "ed25519:x", signature: "c2ln+/")
        #expect(try XMatrixAuthorization.parse(a.headerValue) == a)
    }

    @Test func randomInputNeverCrashes() {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("X-Matrix origin=\"\\,key sig:\t=ab".utf8)
        for _ in 0..<2000 {
            let n = Int.random(in: 0..<40, using: &rng)
            let bytes = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
            _ = try? XMatrixAuthorization.parse("X-Matrix " + String(decoding: bytes, as: UTF8.self))
        }
    }
}

@Suite struct RequestSignatureTests {
    let key = try! SigningKey.generate()

    func request(method: String = "PUT", uri: String = "/_matrix/federation/v1/send/1?x=%40a",
                 destination: String = "dest.org", content: JSON? = ["pdus": []]) -> SignedRequest {
        SignedRequest(method: method, uri: uri, origin: "origin.org", destination: destination, content: content)
    }

    @Test func signThenVerifyRoundTrips() throws {
        let auth = request().authorization(signedBy: key)
        let parsed = try XMatrixAuthorization.parse(auth.headerValue)
        #expect(parsed.origin == "origin.org" && parsed.destination == "dest.org" && parsed.keyID == key.keyID)
        #expect(request().isSigned(parsed.signature, by: key.verifyKey))
    }

    @Test func anyChangeBreaksTheSignature() {
        let sig = request().authorization(signedBy: key).signature
        #expect(!request(method: "POST").isSigned(sig, by: key.verifyKey))
        #expect(!request(uri: "/_matrix/federation/v1/send/2?x=%40a").isSigned(sig, by: key.verifyKey))
        #expect(!request(destination: "other.org").isSigned(sig, by: key.verifyKey))
        #expect(!request(content: ["pdus": [1]]).isSigned(sig, by: key.verifyKey))
        #expect(!request(content: nil).isSigned(sig, by: key.verifyKey))
        #expect(!request().isSigned(sig, by: try! SigningKey.generate().verifyKey))
        #expect(!request().isSigned("not base64!", by: key.verifyKey))
    }

    /// The signed object is the spec's: method, uri, origin, destination, content.
    @Test func signsWhatTheSpecSays() throws {
        let r = request()
        let expected: JSON = ["method": "PUT", "uri": "/_matrix/federation/v1/send/1?x=%40a", "origin": "origin.org",
                              "destination": "dest.org", "content": ["pdus": []]]
        let sig = r.authorization(signedBy: key).signature
        let signedJSON = try expected.signed(by: key, as: "origin.org")
        #expect(signedJSON.signatures(of: "origin.org")[key.keyID] == sig)
    }

    @Test func pathsAreEncodedOnce() {
        #expect(FederationPath.target("/_matrix/federation/v1/user/devices", ["@alice:example.org"])
            == "/_matrix/federation/v1/user/devices/%40alice%3Aexample.org")
        #expect(FederationPath.target("/q", query: [("user_id", "@a b:c"), ("field", "displayname")])
            == "/q?user_id=%40a%20b%3Ac&field=displayname")
    }
}
