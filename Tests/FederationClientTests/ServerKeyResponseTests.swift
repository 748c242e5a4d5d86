import FederationClient
import MatrixCore
import Storage
import Testing

@Suite struct ServerKeyResponseTests {
    let key = try! SigningKey.generate()
    let now: Int64 = 1_700_000_000_000

    func response(server: String = "remote.org", validUntil: Int64, old: JSON = [:], signer: SigningKey? = nil) throws -> JSON {
        let body: JSON = ["server_name": .string(server), "valid_until_ts": .int(validUntil),
                          "verify_keys": .object([key.keyID: ["key": .string(key.verifyKey.base64)]]),
                          "old_verify_keys": old]
        return try body.signed(by: signer ?? key, as: server)
    }

    @Test func acceptsASelfSignedResponse() throws {
        let r = try ServerKeyResponse.validate(try response(validUntil: now + 3_600_000), server: "remote.org", fetchedTS: now)
        #expect(r.keys == [StoredServerKey(serverName: "remote.org", keyID: key.keyID, verifyKey: key.verifyKey.base64,
                                           validUntilTS: now + 3_600_000, expiredTS: nil)])
    }

    @Test func validityIsCappedAtSevenDays() throws {
        let r = try ServerKeyResponse.validate(try response(validUntil: now + 365 * 86_400_000), server: "remote.org", fetchedTS: now)
        #expect(r.keys.first?.validUntilTS == now + 7 * 86_400_000)
        #expect(r.keys.first?.isValid(at: now + 7 * 86_400_000) == true)
        #expect(r.keys.first?.isValid(at: now + 7 * 86_400_000 + 1) == false)
    }

    @Test func oldKeysOnlyCoverWhatWasSignedBeforeTheyExpired() throws {
        let old = try SigningKey.generate(version: "old")
        let r = try ServerKeyResponse.validate(
            try response(validUntil: now + 1000, old: [old.keyID: ["key": .string(old.verifyKey.base64), "expired_ts": .int(now - 10)]]),
            server: "remote.org", fetchedTS: now)
        let o = try #require(r.keys.first { $0.keyID == old.keyID })
        #expect(o.isValid(at: now - 11))
        #expect(!o.isValid(at: now - 10))
    }

    @Test func refusesForgedOrMisaddressedResponses() throws {
        #expect(throws: KeyResponseError.badSignature(key.keyID)) {
            try ServerKeyResponse.validate(try response(validUntil: now, signer: try SigningKey.generate()), server: "remote.org", fetchedTS: now)
        }
        #expect(throws: KeyResponseError.wrongServer("evil.org")) {
            try ServerKeyResponse.validate(try response(server: "evil.org", validUntil: now), server: "remote.org", fetchedTS: now)
        }
        var tampered = try response(validUntil: now)
        tampered["valid_until_ts"] = .int(now + 99_999_999)
        #expect(throws: KeyResponseError.badSignature(key.keyID)) {
            try ServerKeyResponse.validate(tampered, server: "remote.org", fetchedTS: now)
        }
        #expect(throws: KeyResponseError.malformed("no valid_until_ts")) {
            try ServerKeyResponse.validate(try response(validUntil: -5), server: "remote.org", fetchedTS: now)
        }
        #expect(throws: KeyResponseError.malformed("no verify_keys")) {
            try ServerKeyResponse.validate(["server_name": "remote.org", "valid_until_ts": 1, "verify_keys": [:]],
                                           server: "remote.org", fetchedTS: now)
        }
    }
}
