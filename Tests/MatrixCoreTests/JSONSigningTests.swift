import Testing
@testable import MatrixCore

/// The spec appendix "JSON Signing" vectors, plus verification behaviour.
@Suite struct JSONSigningTests {
    @Test func signsEmptyObjectAsTheSpecDoes() throws {
        let key = try SpecSigningKey.make()
        let signed = try JSON.parse("{}").signed(by: key, as: SpecSigningKey.serverName)
        let expected = try JSON.parse("""
            {"signatures":{"domain":{"ed25519:1":"K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ"}}}
            """)
        #expect(signed.canonicalString == expected.canonicalString)
    }

    @Test func signsObjectWithDataAsTheSpecDoes() throws {
        let key = try SpecSigningKey.make()
        let signed = try JSON.parse(#"{"one":1,"two":"Two"}"#).signed(by: key, as: SpecSigningKey.serverName)
        let expected = try JSON.parse("""
            {"one":1,"signatures":{"domain":{"ed25519:1":"KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"}},"two":"Two"}
            """)
        #expect(signed.canonicalString == expected.canonicalString)
    }

    @Test func signatureIgnoresUnsignedAndKeepsOtherSignatures() throws {
        let key = try SpecSigningKey.make()
        let input = try JSON.parse("""
            {"one":1,"two":"Two","unsigned":{"age_ts":5},"signatures":{"other.org":{"ed25519:x":"abc"}}}
            """)
        let signed = try input.signed(by: key, as: SpecSigningKey.serverName)
        // Same signature as the spec's vector for {"one":1,"two":"Two"}.
        #expect(signed.signatures(of: "domain")["ed25519:1"]
            == "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw")
        #expect(signed.signatures(of: "other.org") == ["ed25519:x": "abc"])
        #expect(signed["unsigned"] == ["age_ts": 5])
    }

    @Test func verifiesSpecVectorAndDetectsTampering() throws {
        let key = try SpecSigningKey.make()
        let signed = try JSON.parse("""
            {"one":1,"signatures":{"domain":{"ed25519:1":"KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"}},"two":"Two"}
            """)
        try signed.verifySignature(of: "domain", with: key.verifyKey)
        #expect(signed.signatureKeyIDs(of: "domain") == ["ed25519:1"])

        var tampered = signed
        tampered["two"] = "Three"
        #expect(throws: JSONSignatureError.badSignature(entity: "domain", keyID: "ed25519:1")) {
            try tampered.verifySignature(of: "domain", with: key.verifyKey)
        }

        var withUnsigned = signed
        withUnsigned["unsigned"] = ["age": 1]
        #expect(withUnsigned.hasValidSignature(of: "domain", with: key.verifyKey))

        #expect(throws: JSONSignatureError.missingSignature(entity: "elsewhere", keyID: "ed25519:1")) {
            try signed.verifySignature(of: "elsewhere", with: key.verifyKey)
        }
        var garbled = signed
        garbled["signatures"] = ["domain": ["ed25519:1": "not base64!"]]
        #expect(throws: JSONSignatureError.invalidBase64) {
            try garbled.verifySignature(of: "domain", with: key.verifyKey)
        }
    }

    @Test func keyIDsListOnlyUnderstoodAlgorithms() throws {
        let json = try JSON.parse(#"{"signatures":{"s":{"ed25519:b":"x","ed25519:a":"y","curve448:z":"w"}}}"#)
        #expect(json.signatureKeyIDs(of: "s") == ["ed25519:a", "ed25519:b"])
    }

    @Test func refusesNonObjects() throws {
        let key = try SpecSigningKey.make()
        #expect(throws: JSONSignatureError.notAnObject) { try JSON.array([]).signed(by: key, as: "domain") }
    }
}
