import MatrixCore
import RoomServer
import Storage
import Testing

/// Many sends to one room at once: the room actor batches them into commits that keep the
/// room's DAG a single line.
@Suite(.freshDatabase)
struct RoomConcurrentSendTests {
    @Test func hundredConcurrentSendsAllCommitOnALinearChain() async throws {
        let db = try TestDatabase.current().db
        let commits = CommitLog()
        let server = try RoomFixtures.server(db, commits: commits)
        let alice = RoomFixtures.user("alice")
        let (roomID, created) = try await RoomFixtures.createRoom(server, creator: alice)

        let results = try await withThrowingTaskGroup(of: EventResult.self) { group in
            for i in 0..<100 { group.addTask { try await server.send(roomID: roomID, RoomFixtures.message(alice, "m\(i)")) } }
            return try await group.reduce(into: [EventResult]()) { $0.append($1) }
        }
        #expect(results.count == 100)
        #expect(Set(results.map(\.streamPos)).count == 100, "each send has its own position")
        #expect(Set(results.map(\.event.eventID)).count == 100)
        #expect(Set(results.compactMap { $0.event.content["body"]?.stringValue }) == Set((0..<100).map { "m\($0)" }))

        let chain = try await StoredChain.load(db, roomID: roomID)
        #expect(chain.events.count == created.count + 100)
        #expect(chain.linearityProblem == nil, "\(chain.linearityProblem ?? "")")
        // What each caller was told matches what was stored at that position.
        let byPos = Dictionary(uniqueKeysWithValues: chain.events.map { ($0.pos, $0.event.eventID) })
        for r in results { #expect(byPos[r.streamPos] == r.event.eventID) }

        let last = try #require(chain.events.last)
        #expect(try await db.strings("SELECT event_id FROM forward_extremities WHERE room_id = \(roomID)") == [last.event.eventID])
        #expect(try await db.int64("SELECT last_pos FROM rooms WHERE room_id = \(roomID)") == last.pos)
        #expect(try await db.currentStreamHead() >= last.pos)
        // Every commit was reported once, for waking syncs and publishing.
        #expect(Set(commits.all.map(\.event.eventID)) == Set(chain.events.map(\.event.eventID)))
        #expect(commits.all.count == chain.events.count)
        // Batches commit behind one another and are announced in stream order.
        #expect(commits.all.map(\.streamPos) == commits.all.map(\.streamPos).sorted())
    }

    @Test func duplicateTransactionIDsSentConcurrentlyGiveOneEvent() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let bob = RoomFixtures.user("bob")
        let (roomID, _) = try await RoomFixtures.createRoom(server, creator: bob)
        let txn = TxnRef(userID: bob, deviceID: "DEVICE", txnID: "txn-1")

        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask { try await server.send(roomID: roomID, RoomFixtures.message(bob, "once", txn: txn)).event.eventID }
            }
            // Unrelated sends in between, so the duplicates land in different batches too.
            for i in 0..<10 {
                group.addTask { try await server.send(roomID: roomID, RoomFixtures.message(bob, "other \(i)")).event.eventID }
            }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        let stored = try await db.strings("""
            SELECT event_id FROM events WHERE room_id = \(roomID) AND txn_id = 'txn-1' AND txn_device = 'DEVICE'
            """)
        #expect(stored.count == 1)
        #expect(Set(ids).count == 11, "20 duplicates collapse into one event, plus the 10 others")
        #expect(ids.filter { $0 == stored.first }.count == 20)
        #expect(try await EventStore(db: db).txnEvent(txn) == stored.first)
        // Sending the same transaction again later still returns the same event.
        let again = try await server.send(roomID: roomID, RoomFixtures.message(bob, "once", txn: txn))
        #expect(again.event.eventID == stored.first)
        #expect(try await db.int64("SELECT count(*) FROM events WHERE room_id = \(roomID) AND txn_id = 'txn-1'") == 1)
    }

    /// A retry that reaches a room server which has not seen the transaction (a restart,
    /// another process) is answered from storage: while the sender is still joined (the commit
    /// finds the transaction taken) and after they left (the retry itself is refused).
    @Test func aRetriedTransactionUnknownToTheRoomServerGetsTheStoredEvent() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let bob = RoomFixtures.user("bob")
        let (roomID, _) = try await RoomFixtures.createRoom(server, creator: bob)
        let txn = TxnRef(userID: bob, deviceID: "DEVICE", txnID: "retried")
        let first = try await server.send(roomID: roomID, RoomFixtures.message(bob, "once", txn: txn))

        let restarted = try RoomFixtures.server(db, label: "restarted")
        let joinedRetry = try await restarted.send(roomID: roomID, RoomFixtures.message(bob, "once", txn: txn))
        #expect(joinedRetry.event.eventID == first.event.eventID)

        _ = try await server.send(roomID: roomID, EventRequest(sender: bob, type: "m.room.member", stateKey: bob,
                                                               content: ["membership": "leave"]))
        let again = try RoomFixtures.server(db, label: "restarted again")
        let leftRetry = try await again.send(roomID: roomID, RoomFixtures.message(bob, "once", txn: txn))
        #expect(leftRetry.event.eventID == first.event.eventID)
        #expect(try await db.int64("SELECT count(*) FROM events WHERE room_id = \(roomID) AND txn_id = 'retried'") == 1)
    }
}
