import MatrixCore
import RoomServer
import Storage
import Synchronization
import Testing

/// Positions come from one sequence under one lock: unique, and a reader that sees the head
/// at N already sees every row at or below N.
@Suite(.serialized, .freshDatabase)
struct StreamPositionTests {
    /// What a reader saw at one moment: the head, then every position at or below it.
    struct Observation: Sendable {
        let head: Int64
        let visible: Set<Int64>
    }

    /// Shared between the reader task and the test.
    final class Reader: Sendable {
        let writing = Atomic<Bool>(true)
        let observations = Mutex<[Observation]>([])
    }

    static func positions(upTo head: Int64, _ db: Database) async throws -> Set<Int64> {
        Set(try await db.int64s("""
            SELECT stream_pos FROM account_data WHERE stream_pos <= \(head)
            UNION ALL SELECT stream_pos FROM events WHERE stream_pos <= \(head)
            """))
    }

    @Test func concurrentWritersGetUniquePositionsAndReadersSeeNoGaps() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("alice")
        var created: [String] = []
        for _ in 0..<4 { created.append(try await RoomFixtures.createRoom(server, creator: alice).0) }
        let rooms = created

        let reader = Reader()
        let (accountPositions, eventPositions) = try await withThrowingTaskGroup(of: Void.self) { group in
            // The reader: head first, then the rows, over and over while the writers run.
            group.addTask {
                repeat {
                    let head = try await db.currentStreamHead()
                    let seen = try await Self.positions(upTo: head, db)
                    reader.observations.withLock { $0.append(Observation(head: head, visible: seen)) }
                } while reader.writing.load(ordering: .relaxed)
            }
            let store = UserDataStore(db: db)
            async let accountData: [Int64] = withThrowingTaskGroup(of: Int64.self) { g in
                for i in 0..<200 {
                    g.addTask {
                        try await store.setAccountData(alice, roomID: "", type: "org.example.test.\(i)", content: "{\"n\":\(i)}")
                    }
                }
                return try await g.reduce(into: []) { $0.append($1) }
            }
            async let sends: [Int64] = withThrowingTaskGroup(of: Int64.self) { g in
                for i in 0..<200 {
                    let room = rooms[i % rooms.count]
                    g.addTask { try await server.send(roomID: room, RoomFixtures.message(alice, "m\(i)")).streamPos }
                }
                return try await g.reduce(into: []) { $0.append($1) }
            }
            let result = try await (accountData, sends)
            reader.writing.store(false, ordering: .relaxed)
            try await group.waitForAll()
            return result
        }

        let all = accountPositions + eventPositions
        #expect(all.count == 400)
        #expect(Set(all).count == 400, "every write got its own position")
        let head = try await db.currentStreamHead()
        #expect(all.allSatisfy { $0 <= head }, "the head covers every committed write")

        // Rows never appear below a head a reader has already seen.
        let seen = reader.observations.withLock { $0 }
        #expect(seen.count >= 3, "the reader observed the stream several times while it was written")
        for o in seen {
            let now = try await Self.positions(upTo: o.head, db)
            #expect(now == o.visible, "at head \(o.head) the reader missed positions \(now.subtracting(o.visible).sorted())")
        }
        // And nothing was lost: everything up to the head is visible and contiguous from 1.
        let final = try await Self.positions(upTo: head, db)
        #expect(final == Set(1...head), "positions in use are exactly 1...head")
    }
}
