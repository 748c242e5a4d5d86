import Storage
import Testing

/// Sliding sync connection state: which position a request builds on, retries and re-sent
/// requests, requests that outlive their client, and starting a connection afresh.
@Suite(.freshDatabase)
struct SlidingSyncStoreTests {
    static let week: Int64 = 7 * 24 * 3600 * 1000

    static func record(_ room: String, _ upTo: Int64, lazy: Set<String> = []) -> SlidingSyncRoomRecord {
        SlidingSyncRoomRecord(roomID: room, sentUpTo: upTo, config: #"{"timeline_limit":1}"#, lazyMembers: lazy)
    }

    func resume(_ store: SlidingSyncStore, _ key: Int64, _ seq: Int64) async throws -> SlidingSyncPosition? {
        try await store.resume(userID: "@a:x", deviceID: "D", connID: "room-list", connKey: key, seq: seq, expiryMs: Self.week)
    }

    // Each test uses its own user: the suite's tests share one database and run in parallel.
    @Test func retriesBuildOnTheSameStateAndConfirmingDropsTheRest() async throws {
        let store = SlidingSyncStore(db: try TestDatabase.current().db)
        let start = try await store.open(userID: "@a:x", deviceID: "D", connID: "room-list")
        #expect(try await store.rooms(connKey: start.connKey, asOf: start.seq).isEmpty)
        let key = start.connKey

        let s1 = try #require(try await store.commit(connKey: key, parent: start.seq, rooms: [Self.record("!a", 5, lazy: ["@b:x"])],
                                                     listCounts: #"{"all":1}"#))
        let p1 = try #require(try await resume(store, key, s1))
        #expect(p1.listCounts == #"{"all":1}"#)
        let afterFirst = try await store.rooms(connKey: key, asOf: s1)
        #expect(afterFirst["!a"]?.sentUpTo == 5 && afterFirst["!a"]?.lazyMembers == ["@b:x"])

        // A response the client never got (s2), then the same request again (s3): both
        // build on s1, and s1 still reads as it was.
        let s2 = try #require(try await store.commit(connKey: key, parent: s1, rooms: [Self.record("!a", 8)], listCounts: "{}"))
        #expect(try await resume(store, key, s1) != nil)
        #expect(try await store.rooms(connKey: key, asOf: s1)["!a"]?.sentUpTo == 5)
        let s3 = try #require(try await store.commit(connKey: key, parent: s1, rooms: [Self.record("!b", 9)], listCounts: "{}"))
        #expect(s3 != s2)
        let at3 = try await store.rooms(connKey: key, asOf: s3)
        #expect(at3["!a"]?.sentUpTo == 5 && at3["!b"]?.sentUpTo == 9, "a position sees its parent's rooms too")

        // Continuing from s3 drops its sibling s2 and folds s1 into it.
        #expect(try await resume(store, key, s3) != nil)
        #expect(try await resume(store, key, s2) == nil)
        #expect(try await resume(store, key, s1) == nil)
        let folded = try await store.rooms(connKey: key, asOf: s3)
        #expect(folded["!a"]?.sentUpTo == 5 && folded["!b"]?.sentUpTo == 9)
        // A request still waiting on s1 cannot record a response any more.
        #expect(try await store.commit(connKey: key, parent: s1, rooms: [Self.record("!a", 10)], listCounts: "{}") == nil)
        #expect(try await store.rooms(connKey: key, asOf: s3)["!a"]?.sentUpTo == 5)
    }

    /// Confirming a position writes the rooms its response changed, not every room the
    /// connection was ever sent: the other rows keep their row version (xmin).
    @Test func confirmingAPositionRewritesOnlyTheRoomsItChanged() async throws {
        let db = try TestDatabase.current().db
        let store = SlidingSyncStore(db: db)
        let rooms = (0..<30).map { Self.record("!r\($0)", 1) }
        let start = try await store.open(userID: "@w:x", deviceID: "D", connID: "room-list", rooms: rooms)
        let key = start.connKey
        func versions() async throws -> [String: String] {
            var out: [String: String] = [:]
            for try await (r, x) in try await db.query(
                "SELECT room_id, xmin::text FROM sliding_sync_rooms WHERE conn_key = \(key) AND seq = -1").decode((String, String).self) {
                out[r] = x
            }
            return out
        }
        let before = try await versions()
        #expect(before.count == 30)
        var seq = start.seq
        for step in 1...3 {
            let s = try #require(try await store.commit(connKey: key, parent: seq, rooms: [Self.record("!r0", Int64(step + 1))],
                                                        listCounts: "{}"))
            #expect(try await store.resume(userID: "@w:x", deviceID: "D", connID: "room-list", connKey: key, seq: s,
                                           expiryMs: Self.week) != nil)
            seq = s
        }
        let after = try await versions()
        #expect(after.count == 30)
        #expect(after["!r0"] != before["!r0"])
        #expect(after.filter { $0.key != "!r0" } == before.filter { $0.key != "!r0" })
        let view = try await store.rooms(connKey: key, asOf: seq)
        #expect(view.count == 30 && view["!r0"]?.sentUpTo == 4 && view["!r7"]?.sentUpTo == 1)
    }

    @Test func positionsBelongToOneConnectionOfOneDevice() async throws {
        let store = SlidingSyncStore(db: try TestDatabase.current().db)
        let first = try await store.open(userID: "@z:x", deviceID: "D", connID: "room-list")
        let s1 = try #require(try await store.commit(connKey: first.connKey, parent: 0, rooms: [Self.record("!r", 3)], listCounts: "{}"))
        #expect(try await store.resume(userID: "@z:x", deviceID: "E", connID: "room-list", connKey: first.connKey, seq: s1,
                                       expiryMs: Self.week) == nil)
        #expect(try await store.resume(userID: "@m:x", deviceID: "D", connID: "room-list", connKey: first.connKey, seq: s1,
                                       expiryMs: Self.week) == nil)
        #expect(try await store.resume(userID: "@z:x", deviceID: "D", connID: "room-list", connKey: first.connKey, seq: s1,
                                       expiryMs: -1) == nil, "expired")

        // Starting again forgets the old connection entirely.
        let second = try await store.open(userID: "@z:x", deviceID: "D", connID: "room-list")
        #expect(second.connKey != first.connKey)
        #expect(try await store.resume(userID: "@z:x", deviceID: "D", connID: "room-list", connKey: first.connKey, seq: s1,
                                       expiryMs: Self.week) == nil)
        #expect(try await store.rooms(connKey: first.connKey, asOf: s1).isEmpty)
        #expect(try await store.commit(connKey: first.connKey, parent: s1, rooms: [], listCounts: "{}") == nil)
    }

    @Test func abandonedConnectionsGoWhenTheUserOpensAnother() async throws {
        let store = SlidingSyncStore(db: try TestDatabase.current().db)
        let old = try await store.open(userID: "@y:x", deviceID: "D", connID: "encryption", rooms: [Self.record("!o", 2)])
        let kept = try await store.open(userID: "@y:x", deviceID: "E", connID: "room-list", rooms: [Self.record("!k", 2)])
        // Opening with an expiry both have exceeded drops them (and keeps the new one).
        let fresh = try await store.open(userID: "@y:x", deviceID: "F", connID: "room-list", expiryMs: -1)
        #expect(try await store.rooms(connKey: old.connKey, asOf: 0).isEmpty)
        #expect(try await store.rooms(connKey: kept.connKey, asOf: 0).isEmpty)
        #expect(try await store.resume(userID: "@y:x", deviceID: "F", connID: "room-list", connKey: fresh.connKey, seq: 0,
                                       expiryMs: Self.week) != nil)
        // Within the expiry, other connections of the user stay.
        let other = try await store.open(userID: "@y:x", deviceID: "G", connID: "room-list", rooms: [Self.record("!g", 4)])
        _ = try await store.open(userID: "@y:x", deviceID: "H", connID: "room-list")
        #expect(try await store.rooms(connKey: other.connKey, asOf: 0)["!g"]?.sentUpTo == 4)
    }

    /// Connections live across the upgrade to the base view keep what they were sent, and
    /// go on from their positions.
    @Test func connectionsOpenedBeforeTheBaseViewCarryOn() async throws {
        try await withFreshDatabase(migrated: false) { tdb in
            _ = try await Migrator(db: tdb.db).migrate(upTo: 15)
            let store = SlidingSyncStore(db: tdb.db)
            let start = try await store.open(userID: "@u:x", deviceID: "D", connID: "room-list",
                                             rooms: [Self.record("!a", 1), Self.record("!b", 1)])
            let key = start.connKey
            let s1 = try #require(try await store.commit(connKey: key, parent: start.seq, rooms: [Self.record("!a", 2)],
                                                         listCounts: "{}"))
            let resumed = try await store.resume(userID: "@u:x", deviceID: "D", connID: "room-list", connKey: key, seq: s1,
                                                 expiryMs: Self.week)
            #expect(resumed != nil)
            // A response after the confirmed one, not yet confirmed itself.
            let s2 = try #require(try await store.commit(connKey: key, parent: s1, rooms: [Self.record("!c", 3)], listCounts: "{}"))
            let before1 = try await store.rooms(connKey: key, asOf: s1)
            let before2 = try await store.rooms(connKey: key, asOf: s2)

            _ = try await Migrator(db: tdb.db).migrate()
            #expect(try await store.rooms(connKey: key, asOf: s1).mapValues(\.sentUpTo) == before1.mapValues(\.sentUpTo))
            #expect(try await store.rooms(connKey: key, asOf: s2).mapValues(\.sentUpTo) == before2.mapValues(\.sentUpTo))
            let resumed2 = try await store.resume(userID: "@u:x", deviceID: "D", connID: "room-list", connKey: key, seq: s2,
                                                  expiryMs: Self.week)
            #expect(resumed2 != nil)
            let after = try await store.rooms(connKey: key, asOf: s2)
            #expect(after.mapValues(\.sentUpTo) == ["!a": 2, "!b": 1, "!c": 3])
        }
    }
}
