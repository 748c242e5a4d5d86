import MatrixCore
import RoomServer
import Storage
import Testing

/// Events that fail the auth rules are refused before anything reaches Postgres. Serialized:
/// one test checks that the whole database's stream head did not move.
@Suite(.serialized, .freshDatabase)
struct RoomAuthorisationTests {
    @Test func aNonMemberCannotSendAndNothingIsWritten() async throws {
        let db = try TestDatabase.current().db
        let commits = CommitLog()
        let server = try RoomFixtures.server(db, commits: commits)
        let alice = RoomFixtures.user("alice"), mallory = RoomFixtures.user("mallory")
        let (roomID, created) = try await RoomFixtures.createRoom(server, creator: alice)
        let rowsBefore = try await db.roomRowCount(roomID)
        let headBefore = try await db.currentStreamHead()
        let commitsBefore = commits.all.count

        await #expect(throws: RoomServerError.self) {
            try await server.send(roomID: roomID, RoomFixtures.message(mallory, "let me in"))
        }
        // A state event from a non-member is refused as well.
        await #expect(throws: RoomServerError.self) {
            try await server.send(roomID: roomID, EventRequest(sender: mallory, type: "m.room.name", stateKey: "",
                                                               content: ["name": "pwned"]))
        }

        #expect(try await db.roomRowCount(roomID) == rowsBefore)
        #expect(try await db.currentStreamHead() == headBefore)
        #expect(try await db.int64("SELECT count(*) FROM events WHERE sender = \(mallory)") == 0)
        #expect(commits.all.count == commitsBefore)
        #expect(try await RoomsStore(db: db).membership(roomID, mallory) == nil)

        // The refused events left no trace in the writer's cache either: the next send
        // builds on the last accepted event.
        let next = try await server.send(roomID: roomID, RoomFixtures.message(alice, "still here"))
        #expect(next.event.prevEventIDs == [created.last!.event.eventID])
        let chain = try await StoredChain.load(db, roomID: roomID)
        #expect(chain.linearityProblem == nil, "\(chain.linearityProblem ?? "")")
    }

    @Test func aRejectedEventInABatchDoesNotStopTheOthers() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("carol"), mallory = RoomFixtures.user("mallory2")
        let (roomID, _) = try await RoomFixtures.createRoom(server, creator: alice)

        let outcomes = await withTaskGroup(of: (String, Bool).self) { group in
            for i in 0..<20 {
                let sender = i % 4 == 0 ? mallory : alice
                group.addTask {
                    let ok = (try? await server.send(roomID: roomID, RoomFixtures.message(sender, "n\(i)"))) != nil
                    return (sender, ok)
                }
            }
            return await group.reduce(into: [(String, Bool)]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0.0 == mallory }.allSatisfy { !$0.1 })
        #expect(outcomes.filter { $0.0 == alice }.allSatisfy { $0.1 })
        #expect(try await db.int64("SELECT count(*) FROM events WHERE room_id = \(roomID) AND type = 'm.room.message'") == 15)
        let chain = try await StoredChain.load(db, roomID: roomID)
        #expect(chain.linearityProblem == nil, "\(chain.linearityProblem ?? "")")
    }
}
