import MatrixCore
import RoomServer
import Storage
import Testing

/// A v12 room ID is the hash of its create event: rooms created at once by one user with the
/// same content must still get distinct IDs, in one process and across two.
@Suite(.freshDatabase)
struct RoomCreationConcurrencyTests {
    @Test func concurrentIdenticalCreatesGetDistinctRooms() async throws {
        let db = try TestDatabase.current().db
        let first = try RoomFixtures.server(db, label: "a")
        let second = try RoomFixtures.server(db, label: "b")
        let alice = RoomFixtures.user("alice-many")
        let ids = try await withThrowingTaskGroup(of: String.self) { g in
            for i in 0..<24 {
                let server = i % 2 == 0 ? first : second
                g.addTask { try await RoomFixtures.createRoom(server, version: .v12, creator: alice).0 }
            }
            return try await g.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(ids.count == 24)
        #expect(Set(ids).count == 24, "room IDs repeat: \(ids)")
        let stored = try await db.rows("SELECT room_id FROM rooms WHERE creator = \(alice)")
        #expect(stored.count == 24)
    }
}
