import MatrixCore
import RoomServer
@testable import Storage
import Synchronization
import Testing

/// The reads of woken syncs, batched: one statement answers each request as a read of its
/// own would, and the coalescer hands every caller its own answer or the batch's error.
@Suite(.serialized, .freshDatabase)
struct SyncReadBatchesTests {
    /// Alice and Bob share `both`; only Alice is in `solo`. Every message notifies the other
    /// members, and highlights when it names them.
    private func rooms(_ db: Database) async throws -> (both: String, solo: String, marks: [Int64]) {
        let alice = RoomFixtures.user("alice"), bob = RoomFixtures.user("bob")
        let server = RoomServer(store: EventStore(db: db), serverName: RoomFixtures.serverName, signingKey: try SigningKey.generate(),
                                logger: TestEnvironment.logger("batches"), onCommit: { _ in }, pushActions: { batch in
            batch.map { event, state in
                guard event.type == "m.room.message" else { return .none }
                let body = event.content["body"]?.stringValue ?? ""
                let recipients = [alice, bob].filter { $0 != event.sender && state.membership(of: $0) == "join" }
                return PushOutcome(rows: recipients.map {
                    PushActionRow(userID: $0, highlight: body.contains($0), threadID: "main", actionsJSON: "[\"notify\"]")
                }, recipients: recipients)
            }
        })
        let (both, _) = try await RoomFixtures.createRoom(server, creator: alice)
        _ = try await RoomFixtures.join(server, both, bob)
        let (solo, _) = try await RoomFixtures.createRoom(server, creator: alice)
        var marks = [try await db.currentStreamHead()]
        _ = try await server.send(roomID: solo, RoomFixtures.message(alice, "alone"))
        marks.append(try await db.currentStreamHead())
        let read = try await server.send(roomID: both, RoomFixtures.message(alice, "hello"))
        _ = try await server.send(roomID: both, RoomFixtures.message(alice, "hi \(bob)"))
        _ = try await server.send(roomID: both, RoomFixtures.message(bob, "hi \(alice)"))
        _ = try await UserDataStore(db: db).setReceipt(roomID: both, type: "m.read", userID: bob, threadID: "",
                                                       eventID: read.event.eventID)
        return (both, solo, marks)
    }

    @Test func batchedProbesAnswerEachSyncAsItsOwnProbeWould() async throws {
        let db = try TestDatabase.current().db
        let (both, solo, marks) = try await rooms(db)
        let alice = RoomFixtures.user("alice"), bob = RoomFixtures.user("bob")
        let store = UserDataStore(db: db)
        let requests = [SyncProbeRequest(userID: alice, deviceID: "A", since: marks[0]),
                        SyncProbeRequest(userID: bob, deviceID: "B", since: marks[0]),
                        SyncProbeRequest(userID: alice, deviceID: "A", since: marks[1]),
                        SyncProbeRequest(userID: "@nobody:myelin.test", deviceID: "N", since: marks[1])]
        let batched = try await store.syncProbes(requests)
        #expect(batched.map(\.changes.roomsWithEvents) == [[both, solo], [both], [both], []])
        #expect(batched.map { Set($0.memberships.map(\.roomID)) } == [[both, solo], [both], [both, solo], []])
        #expect(batched[1].memberships.allSatisfy { $0.userID == bob })
        #expect(batched.map(\.changes.receipts) == [true, true, true, false])
        for (request, answer) in zip(requests, batched) {
            let alone = try await store.syncProbes([request])[0]
            #expect(answer.head == alone.head)
            #expect(answer.memberships.map(\.eventID) == alone.memberships.map(\.eventID))
            #expect(answer.changes.roomsWithEvents == alone.changes.roomsWithEvents)
            #expect(answer.changes.memberChanges == alone.changes.memberChanges)
        }
        #expect(try await store.syncProbes([]).isEmpty)
    }

    @Test func batchedUnreadCountsAreEachUsersOwn() async throws {
        let db = try TestDatabase.current().db
        let (both, solo, _) = try await rooms(db)
        let alice = RoomFixtures.user("alice"), bob = RoomFixtures.user("bob")
        let store = UserDataStore(db: db)
        let batched = try await store.unreadCounts([UnreadRequest(userID: bob, rooms: [both, solo]),
                                                    UnreadRequest(userID: alice, rooms: []),
                                                    UnreadRequest(userID: alice, rooms: [both])])
        // Bob read "hello": "hi bob" is left, and it names him. Alice has read nothing.
        #expect(batched[0][both]?["main"].map { [$0.0, $0.1] } == [1, 1])
        #expect(batched[0][solo] == nil)
        #expect(batched[1].isEmpty)
        #expect(batched[2][both]?["main"].map { [$0.0, $0.1] } == [1, 1])
        let bobAlone = try await store.unreadCounts([UnreadRequest(userID: bob, rooms: [both, solo])])[0]
        #expect(bobAlone[both]?["main"].map { [$0.0, $0.1] } == [1, 1])
        #expect(UserDataStore.totals(batched[0])[both].map { [$0.0, $0.1] } == [1, 1])
        #expect(try await store.unreadCounts([]).isEmpty)
    }

    @Test func readsThatComeTogetherShareABatchAndEachGetTheirOwnAnswer() async throws {
        let sizes = Mutex<[Int]>([])
        let coalescer = ReadCoalescer<Int, Int>(maxInFlight: 1) { batch in
            sizes.withLock { $0.append(batch.count) }
            try await Task.sleep(for: .milliseconds(50))
            return batch.map { $0 * 2 }
        }
        let answers = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for i in 0..<10 { group.addTask { (i, try await coalescer.read(i)) } }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(answers == Dictionary(uniqueKeysWithValues: (0..<10).map { ($0, $0 * 2) }))
        let seen = sizes.withLock { $0 }
        #expect(seen.reduce(0, +) == 10)
        #expect(seen.contains { $0 > 1 })
    }

    @Test func aFailedBatchFailsEveryReadInIt() async throws {
        struct Refused: Error {}
        let failing = ReadCoalescer<Int, Int>(maxInFlight: 1) { _ in
            try await Task.sleep(for: .milliseconds(20))
            throw Refused()
        }
        let short = ReadCoalescer<Int, Int> { _ in [] }
        let failures = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<6 {
                group.addTask {
                    do { _ = try await failing.read(i); return false } catch { return error is Refused }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 6)
        await #expect(throws: ReadCoalescerError.self) { try await short.read(1) }
    }
}
