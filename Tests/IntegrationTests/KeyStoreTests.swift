import Storage
import Testing

/// One-time and fallback keys: conflicting re-uploads, claims under concurrency, and the
/// fallback key's used flag.
@Suite(.freshDatabase)
struct KeyStoreTests {
    static func otk(_ id: String, _ json: String = #"{"key":"k"}"#) -> UploadedKey {
        UploadedKey(algorithm: "signed_curve25519", keyID: "signed_curve25519:\(id)", json: json)
    }

    @Test func reusingAOneTimeKeyIDWithNewContentIsRefused() async throws {
        let keys = KeyStore(db: try TestDatabase.current().db)
        _ = try await keys.upload(userID: "@a:x", deviceID: "D", deviceKeys: nil, oneTimeKeys: [Self.otk("1")], fallbackKeys: [])
        // The same key again is a retried request: fine.
        _ = try await keys.upload(userID: "@a:x", deviceID: "D", deviceKeys: nil, oneTimeKeys: [Self.otk("1")], fallbackKeys: [])
        await #expect(throws: KeyStoreError.oneTimeKeyConflict("signed_curve25519:1")) {
            _ = try await keys.upload(userID: "@a:x", deviceID: "D", deviceKeys: nil,
                                      oneTimeKeys: [Self.otk("1", #"{"key":"other"}"#)], fallbackKeys: [])
        }
    }

    @Test func concurrentClaimsNeverShareAKeyAndThenGetTheFallback() async throws {
        let keys = KeyStore(db: try TestDatabase.current().db)
        let fallback = UploadedKey(algorithm: "signed_curve25519", keyID: "signed_curve25519:F", json: #"{"fallback":true,"key":"f"}"#)
        _ = try await keys.upload(userID: "@b:x", deviceID: "D", deviceKeys: nil,
                                  oneTimeKeys: (1...5).map { Self.otk("\($0)") }, fallbackKeys: [fallback])
        #expect(try await keys.unusedFallbackKeyTypes("@b:x", "D") == ["signed_curve25519"])
        let claimed = try await withThrowingTaskGroup(of: String?.self, returning: [String].self) { group in
            for _ in 0..<8 { group.addTask { try await keys.claim("@b:x", "D", algorithm: "signed_curve25519")?.keyID } }
            return try await group.reduce(into: []) { if let id = $1 { $0.append(id) } }
        }
        let oneTime = claimed.filter { $0 != fallback.keyID }
        #expect(Set(oneTime).count == 5 && oneTime.count == 5, "one-time keys handed out twice: \(claimed)")
        #expect(claimed.count == 8, "every claim gets a key once the fallback is there")
        #expect(try await keys.unusedFallbackKeyTypes("@b:x", "D").isEmpty)

        // Re-uploading the used fallback key keeps it used; a new one is unused.
        _ = try await keys.upload(userID: "@b:x", deviceID: "D", deviceKeys: nil, oneTimeKeys: [], fallbackKeys: [fallback])
        #expect(try await keys.unusedFallbackKeyTypes("@b:x", "D").isEmpty)
        let fresh = UploadedKey(algorithm: "signed_curve25519", keyID: "signed_curve25519:G", json: #"{"fallback":true,"key":"g"}"#)
        _ = try await keys.upload(userID: "@b:x", deviceID: "D", deviceKeys: nil, oneTimeKeys: [], fallbackKeys: [fresh])
        #expect(try await keys.unusedFallbackKeyTypes("@b:x", "D") == ["signed_curve25519"])
    }

    @Test func onlyChangedDeviceKeysRecordADeviceListChange() async throws {
        let keys = KeyStore(db: try TestDatabase.current().db)
        let first = try await keys.upload(userID: "@c:x", deviceID: "D", deviceKeys: #"{"k":1}"#, oneTimeKeys: [], fallbackKeys: [])
        #expect(first != nil)
        #expect(try await keys.upload(userID: "@c:x", deviceID: "D", deviceKeys: #"{"k":1}"#, oneTimeKeys: [], fallbackKeys: []) == nil)
        let second = try await keys.upload(userID: "@c:x", deviceID: "D", deviceKeys: #"{"k":2}"#, oneTimeKeys: [], fallbackKeys: [])
        #expect(second != nil && second! > first!)
    }
}
