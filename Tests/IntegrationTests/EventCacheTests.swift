@testable import ClientAPIService
import MatrixCore
import RoomServer
@testable import Storage
import Testing

/// Events kept parsed by ID: reads that take the JSON from the cache still answer what the
/// database holds, and what can change about an event (its redaction) always comes from the row.
@Suite(.serialized, .freshDatabase)
struct EventCacheTests {
    /// The JSON and transaction the database holds for an event, read without the cache.
    func stored(_ db: Database, _ eventID: String) async throws -> (JSON, String?, String?) {
        for try await (j, d, t) in try await db.query("SELECT json, txn_device, txn_id FROM events WHERE event_id = \(eventID)")
            .decode((String, String?, String?).self) {
            return (try JSON.parse(j), d, t)
        }
        throw StorageError.unexpected("no event \(eventID)")
    }

    @Test func cachedReadsAnswerWhatTheDatabaseHolds() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("cache-alice")
        let (room, _) = try await RoomFixtures.createRoom(server, creator: alice)
        let txn = TxnRef(userID: alice, deviceID: "DEV1", txnID: "t-1")
        let sent = try await server.send(roomID: room, RoomFixtures.message(alice, "hello", txn: txn))
        let plain = try await server.send(roomID: room, RoomFixtures.message(alice, "no transaction"))
        // A write keeps what it stored.
        #expect(db.eventCache.body(sent.event.eventID) != nil)

        let store = EventStore(db: db)
        let head = try await db.currentStreamHead()
        let timeline = try await store.latestEvents([TimelineSlice(roomID: room, after: 0, upTo: head, limit: 10)])[room] ?? []
        for id in [sent.event.eventID, plain.event.eventID] {
            let got = try #require(timeline.first { $0.event.eventID == id })
            let (json, device, txnID) = try await stored(db, id)
            #expect(got.event.json == json)
            #expect(got.txnDevice == device && got.txnID == txnID)
        }
        #expect(timeline.first { $0.event.eventID == sent.event.eventID }?.txnID == "t-1")
        #expect(timeline.first { $0.event.eventID == plain.event.eventID }?.txnDevice == nil)

        // Read by another pool (nothing cached there): the same events, parsed from the rows.
        try await TestDatabase.current().withSecondPool { other in
            #expect(other.eventCache.body(sent.event.eventID) == nil)
            let slice = TimelineSlice(roomID: room, after: 0, upTo: head, limit: 10)
            let fromRows = try await EventStore(db: other).latestEvents([slice])[room] ?? []
            #expect(fromRows.map(\.event.eventID) == timeline.map(\.event.eventID))
            #expect(fromRows.map(\.event.json) == timeline.map(\.event.json))
            #expect(fromRows.map(\.txnID) == timeline.map(\.txnID))
            #expect(other.eventCache.body(sent.event.eventID) != nil)
        }
    }

    @Test func aRedactionAfterTheEventWasCachedIsSeen() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let bob = RoomFixtures.user("cache-bob")
        let (room, _) = try await RoomFixtures.createRoom(server, creator: bob)
        let topic = try await server.send(roomID: room, EventRequest(sender: bob, type: "m.room.topic", stateKey: "",
                                                                     content: ["topic": "kept"]))
        let store = EventStore(db: db)
        let before = try await store.currentState(rooms: [room], types: ["m.room.topic"], members: [])[room] ?? []
        #expect(before.map(\.event.eventID) == [topic.event.eventID])
        #expect(before.first?.redactedBy == nil)

        let redaction = try await server.send(roomID: room, EventRequest(sender: bob, type: "m.room.redaction", content: [:],
                                                                         redacts: topic.event.eventID))
        let after = try await store.currentState(rooms: [room], types: ["m.room.topic"], members: [])[room] ?? []
        #expect(after.first?.redactedBy == redaction.event.eventID)
        let head = try await db.currentStreamHead()
        let timeline = try await store.latestEvents([TimelineSlice(roomID: room, after: 0, upTo: head, limit: 10)])[room] ?? []
        #expect(timeline.first { $0.event.eventID == topic.event.eventID }?.redactedBy == redaction.event.eventID)
    }

    @Test func generationsKeepWhatIsUsedAndLetTheRestGo() throws {
        let cache = EventCache(budget: 100)
        func event(_ n: Int) -> Event { Event(eventID: "$e\(n)", json: ["type": "m.room.message", "n": .int(Int64(n))]) }
        cache.keep(event(1), bytes: 60, txnDevice: nil, txnID: nil)
        cache.keep(event(2), bytes: 60, txnDevice: "D", txnID: "t")   // fills the first generation: 1 ages
        #expect(cache.body("$e1") != nil)                               // used again: back in the new generation
        cache.keep(event(3), bytes: 60, txnDevice: nil, txnID: nil)     // 2 ages, and the oldest goes
        cache.keep(event(4), bytes: 60, txnDevice: nil, txnID: nil)
        #expect(cache.body("$e2") == nil)
        #expect(cache.body("$e4")?.event.json["n"]?.intValue == 4)
        // Keeping an ID already held changes nothing.
        cache.keep(Event(eventID: "$e4", json: ["n": 5]), bytes: 10, txnDevice: nil, txnID: nil)
        #expect(cache.body("$e4")?.event.json["n"]?.intValue == 4)
    }
}
