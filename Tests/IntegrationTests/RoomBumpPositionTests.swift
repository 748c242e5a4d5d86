import MatrixCore
import RoomServer
@testable import Storage
import Testing

/// The position of a room's latest event of the bumping types (sliding sync's `bump_stamp`):
/// found among the room's last few events, and behind a run of other events too.
@Suite(.serialized, .freshDatabase)
struct RoomBumpPositionTests {
    static let bumping = ["m.room.create", "m.room.message"]

    @Test func latestBumpingEventBehindOtherEventsIsFound() async throws {
        let db = try TestDatabase.current().db
        let store = EventStore(db: db)
        let server = try RoomFixtures.server(db, label: "bump")
        let alice = RoomFixtures.user("alice")
        let (busy, _) = try await RoomFixtures.createRoom(server, creator: alice)
        let (quiet, _) = try await RoomFixtures.createRoom(server, creator: alice)
        let message = try await server.send(roomID: busy, RoomFixtures.message(alice, "bumps"))
        let beforeTopics = try await db.currentStreamHead()

        // Close behind the message: it is among the room's last few events.
        var topics: [Int64] = []
        for i in 0..<3 {
            let t = try await server.send(roomID: busy, EventRequest(sender: alice, type: "m.room.topic", stateKey: "",
                                                                     content: ["topic": .string("topic \(i)")]))
            topics.append(t.streamPos)
        }
        var found = try await store.latestPositions([busy, quiet], types: Self.bumping, upTo: Int64.max)
        #expect(found[busy] == message.streamPos)

        // Far behind a run of events that do not bump: still found.
        for i in 3..<20 {
            _ = try await server.send(roomID: busy, EventRequest(sender: alice, type: "m.room.topic", stateKey: "",
                                                                 content: ["topic": .string("topic \(i)")]))
        }
        found = try await store.latestPositions([busy, quiet], types: Self.bumping, upTo: Int64.max)
        #expect(found[busy] == message.streamPos)
        // The quiet room's latest bumping event is its creation, followed by a few state events.
        let quietCreate = try #require(try await store.latestPositions([quiet], types: ["m.room.create"], upTo: Int64.max)[quiet])
        #expect(found[quiet] == quietCreate)

        // As of a position, later events do not count; before any bumping event there is none.
        found = try await store.latestPositions([busy], types: ["m.room.topic"], upTo: topics[1])
        #expect(found[busy] == topics[1])
        found = try await store.latestPositions([busy], types: ["m.room.topic"], upTo: beforeTopics)
        #expect(found[busy] == nil)
    }
}
