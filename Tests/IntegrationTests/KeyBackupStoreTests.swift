import Storage
import Testing

/// Room key backups: the spec's replacement rule, etag and count, version numbering and the
/// newest-version-only rule for uploads.
@Suite(.freshDatabase)
struct KeyBackupStoreTests {
    static func key(_ index: Int64, _ forwarded: Int64, _ verified: Bool, _ data: String = "{}", session: String = "s") -> BackupKey {
        BackupKey(roomID: "!r:x", sessionID: session, firstMessageIndex: index, forwardedCount: forwarded, isVerified: verified, sessionData: data)
    }

    @Test func replacementPrefersVerifiedThenLowerIndexThenFewerForwards() {
        // Verification beats everything else, both ways.
        #expect(Self.key(9, 9, true).shouldReplace(Self.key(0, 0, false)))
        #expect(!Self.key(0, 0, false).shouldReplace(Self.key(9, 9, true)))
        // Same verification: the lower first message index wins, whatever the forwards.
        #expect(Self.key(1, 5, false).shouldReplace(Self.key(2, 0, false)))
        #expect(!Self.key(3, 0, true).shouldReplace(Self.key(2, 5, true)))
        // Then the lower forwarded count.
        #expect(Self.key(2, 0, false).shouldReplace(Self.key(2, 1, false)))
        #expect(!Self.key(2, 1, false).shouldReplace(Self.key(2, 0, false)))
        // A full tie keeps the stored key.
        #expect(!Self.key(2, 1, true, "new").shouldReplace(Self.key(2, 1, true, "old")))
    }

    @Test func putKeysCountsChangesInTheEtagAndKeepsTheBetterKey() async throws {
        let store = BackupStore(db: try TestDatabase.current().db)
        let user = "@etag:x"
        #expect(try await store.putKeys(user, 1, [Self.key(0, 0, false)]) == .noBackup)
        let v = try await store.createVersion(user, algorithm: "a", authData: "{}")
        guard case .stored(let e1, 1) = try await store.putKeys(user, v, [Self.key(5, 0, false, #"{"n":1}"#)]) else {
            Issue.record("first put was not stored with count 1"); return
        }
        // A worse key changes nothing, not even the etag.
        #expect(try await store.putKeys(user, v, [Self.key(6, 0, false, #"{"n":2}"#)]) == .stored(etag: e1, count: 1))
        guard case .stored(let e2, 2) = try await store.putKeys(user, v, [Self.key(4, 0, false, #"{"n":3}"#), Self.key(0, 0, false, session: "t")]) else {
            Issue.record("second put was not stored with count 2"); return
        }
        #expect(e2 != e1)
        let kept = try await store.keys(user, v, roomID: "!r:x", sessionID: "s")
        #expect(kept?.map(\.sessionData) == [#"{"n":3}"#])
        #expect(try await store.version(user)?.count == 2)
    }

    @Test func onlyTheNewestVersionTakesKeysAndNumbersAreNeverReused() async throws {
        let store = BackupStore(db: try TestDatabase.current().db)
        let user = "@versions:x"
        let v1 = try await store.createVersion(user, algorithm: "a", authData: "{}")
        let v2 = try await store.createVersion(user, algorithm: "a", authData: "{}")
        #expect(try await store.putKeys(user, v1, [Self.key(0, 0, false)]) == .wrongVersion(current: v2))
        #expect(try await store.deleteVersion(user, v2))
        #expect(!(try await store.deleteVersion(user, v2)))
        #expect(try await store.version(user)?.version == v1)
        let v3 = try await store.createVersion(user, algorithm: "a", authData: "{}")
        #expect(v3 > v2)
        #expect(try await store.keys(user, v2) == nil)
        // Another user's backups are numbered on their own.
        #expect(try await store.createVersion("@other:x", algorithm: "a", authData: "{}") == 1)
    }

    @Test func concurrentCreatesGetDistinctVersions() async throws {
        let store = BackupStore(db: try TestDatabase.current().db)
        let versions = try await withThrowingTaskGroup(of: Int64.self, returning: [Int64].self) { group in
            for _ in 0..<8 { group.addTask { try await store.createVersion("@race:x", algorithm: "a", authData: "{}") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(versions) == Set(1...8))
    }
}
