@testable import ClientAPIService
import MatrixCore
import RoomServer
import Storage
import Testing

/// Reads shared between the syncs one message wakes: the same answer as the store's own
/// read, shared while fresh, read again once stale, and never past the position asked for.
@Suite(.serialized, .freshDatabase)
struct SharedReadsTests {
    @Test func identicalTimelineReadsShareOneResultUntilItExpires() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("alice")
        let (room, _) = try await RoomFixtures.createRoom(server, creator: alice)
        let first = try await server.send(roomID: room, RoomFixtures.message(alice, "one"))
        _ = try await server.send(roomID: room, RoomFixtures.message(alice, "two"))
        let head = try await db.currentStreamHead()
        let store = EventStore(db: db)
        let slices = [TimelineSlice(roomID: room, after: 0, upTo: head, limit: 10)]

        let kept = SharedReads(events: store, lifetime: .seconds(60))
        let fresh = SharedReads(events: store, lifetime: .zero)
        let before = try await kept.latestEvents(slices)
        #expect(before[room]?.map(\.event.eventID) == (try await store.latestEvents(slices))[room]?.map(\.event.eventID))
        #expect(before[room]?.first(where: { $0.event.eventID == first.event.eventID })?.redactedBy == nil)

        // A redaction lands after the head the key ends at.
        _ = try await server.send(roomID: room, EventRequest(sender: alice, type: "m.room.redaction", content: [:],
                                                             redacts: first.event.eventID))
        let shared = try await kept.latestEvents(slices)
        #expect(shared[room]?.first(where: { $0.event.eventID == first.event.eventID })?.redactedBy == nil)
        let reread = try await fresh.latestEvents(slices)
        #expect(reread[room]?.first(where: { $0.event.eventID == first.event.eventID })?.redactedBy != nil)
    }

    @Test func aSharedStateHistoryNeverShowsEntriesPastItsPosition() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("alice")
        let (room, _) = try await RoomFixtures.createRoom(server, creator: alice)
        func visibility(_ v: String) async throws -> Int64 {
            try await server.send(roomID: room, EventRequest(sender: alice, type: "m.room.history_visibility", stateKey: "",
                                                             content: ["history_visibility": .string(v)])).streamPos
        }
        let shared = try await visibility("shared")
        let joined = try await visibility("joined")
        let reads = SharedReads(events: EventStore(db: db), lifetime: .seconds(60))
        let type = "m.room.history_visibility"
        let atShared = try await reads.stateHistory(rooms: [room], type: type, stateKey: "", asOf: shared)
        #expect(atShared[room]?.map(\.0) == [shared])
        let atJoined = try await reads.stateHistory(rooms: [room], type: type, stateKey: "", asOf: joined)
        #expect(atJoined[room]?.map(\.0) == [shared, joined])
        #expect(atJoined[room]?.last?.1["content"]?["history_visibility"]?.stringValue == "joined")
    }
}
