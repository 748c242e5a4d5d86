import MatrixCore
import RoomServer
import Storage
import Testing

/// Two room servers over the same database, as blue and green during a switch: each keeps
/// its own cache, notices when the other wrote the room, reloads and carries on.
@Suite(.freshDatabase)
struct RoomCrossProcessTests {
    @Test func twoServersWritingTheSameRoomAlternatelyKeepALinearChain() async throws {
        let tdb = try TestDatabase.current()
        let alice = RoomFixtures.user("alice"), bob = RoomFixtures.user("bob")
        try await tdb.withSecondPool { otherPool in
            let blue = try RoomFixtures.server(tdb.db, label: "blue")
            let green = try RoomFixtures.server(otherPool, label: "green")
            let (roomID, _) = try await RoomFixtures.createRoom(blue, creator: alice)
            _ = try await RoomFixtures.join(green, roomID, bob)

            var sent: [EventResult] = []
            for i in 0..<10 {
                let (server, sender) = i % 2 == 0 ? (blue, alice) : (green, bob)
                let r = try await server.send(roomID: roomID, RoomFixtures.message(sender, "turn \(i)"))
                if let previous = sent.last {
                    #expect(r.event.prevEventIDs == [previous.event.eventID], "turn \(i) built on a stale cache")
                    #expect(r.event.depth == previous.event.depth + 1)
                }
                sent.append(r)
            }
            let chain = try await StoredChain.load(tdb.db, roomID: roomID)
            #expect(chain.linearityProblem == nil, "\(chain.linearityProblem ?? "")")
            #expect(chain.events.suffix(10).map(\.event.eventID) == sent.map(\.event.eventID))

            // A member who joined through blue can send through green at once: green's stale
            // cache does not know carol, but it must check before refusing her.
            let carol = RoomFixtures.user("carol")
            _ = try await RoomFixtures.join(blue, roomID, carol)
            let r = try await green.send(roomID: roomID, RoomFixtures.message(carol, "hello from carol via green"))
            #expect(r.event.sender == carol)

            // Green's view of the state follows blue's writes too.
            let dan = RoomFixtures.user("dan")
            _ = try await RoomFixtures.join(blue, roomID, dan)
            #expect(try await green.state(roomID: roomID).membership(of: dan) == "join")
            let final = try await StoredChain.load(tdb.db, roomID: roomID)
            #expect(final.linearityProblem == nil, "\(final.linearityProblem ?? "")")
        }
    }

    @Test func twoServersWritingTheSameRoomConcurrentlyAllCommit() async throws {
        let tdb = try TestDatabase.current()
        let alice = RoomFixtures.user("dora"), bob = RoomFixtures.user("erin")
        try await tdb.withSecondPool { otherPool in
            let blue = try RoomFixtures.server(tdb.db, label: "blue")
            let green = try RoomFixtures.server(otherPool, label: "green")
            let (roomID, _) = try await RoomFixtures.createRoom(blue, creator: alice)
            _ = try await RoomFixtures.join(green, roomID, bob)

            let results = try await withThrowingTaskGroup(of: EventResult.self) { group in
                for i in 0..<40 {
                    let (server, sender) = i % 2 == 0 ? (blue, alice) : (green, bob)
                    group.addTask { try await server.send(roomID: roomID, RoomFixtures.message(sender, "c\(i)")) }
                }
                return try await group.reduce(into: [EventResult]()) { $0.append($1) }
            }
            #expect(results.count == 40)
            #expect(Set(results.map(\.streamPos)).count == 40)
            let chain = try await StoredChain.load(tdb.db, roomID: roomID)
            #expect(chain.linearityProblem == nil, "\(chain.linearityProblem ?? "")")
            #expect(try await tdb.db.int64("SELECT count(*) FROM events WHERE room_id = \(roomID) AND type = 'm.room.message'") == 40)
        }
    }

    /// A client retrying a send on the other colour (a proxy resending an idempotent PUT)
    /// must still get one event, whoever commits first.
    @Test func theSameTransactionOnBothServersGivesOneEvent() async throws {
        let tdb = try TestDatabase.current()
        let frank = RoomFixtures.user("frank")
        try await tdb.withSecondPool { otherPool in
            let blue = try RoomFixtures.server(tdb.db, label: "blue")
            let green = try RoomFixtures.server(otherPool, label: "green")
            let (roomID, _) = try await RoomFixtures.createRoom(blue, creator: frank)
            _ = try await green.send(roomID: roomID, RoomFixtures.message(frank, "green knows the room"))

            // One after the other: green has never seen the transaction blue committed.
            let first = TxnRef(userID: frank, deviceID: "PHONE", txnID: "sequential")
            let a = try await blue.send(roomID: roomID, RoomFixtures.message(frank, "once", txn: first))
            let b = try await green.send(roomID: roomID, RoomFixtures.message(frank, "once", txn: first))
            #expect(a.event.eventID == b.event.eventID)

            // At the same time, many times over, with other traffic mixed in.
            let second = TxnRef(userID: frank, deviceID: "PHONE", txnID: "concurrent")
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for i in 0..<20 {
                    let server = i % 2 == 0 ? blue : green
                    group.addTask { try await server.send(roomID: roomID, RoomFixtures.message(frank, "twice?", txn: second)).event.eventID }
                    group.addTask { _ = try await server.send(roomID: roomID, RoomFixtures.message(frank, "noise \(i)")); return nil }
                }
                return try await group.reduce(into: [String]()) { if let id = $1 { $0.append(id) } }
            }
            #expect(Set(ids).count == 1, "one event for one transaction, got \(Set(ids).count)")
            for txn in ["sequential", "concurrent"] {
                #expect(try await tdb.db.int64("SELECT count(*) FROM events WHERE room_id = \(roomID) AND txn_id = \(txn)") == 1)
            }
            let chain = try await StoredChain.load(tdb.db, roomID: roomID)
            #expect(chain.linearityProblem == nil, "\(chain.linearityProblem ?? "")")
        }
    }
}
