import MatrixCore
import RoomServer
import Storage
import Testing

/// The group commit's rules, on `EventStore.persist` directly: what one call accepts, what it
/// reports stale, and what it writes.
@Suite(.serialized, .freshDatabase)
struct EventPersistTests {
    static func message(_ id: String, room: String, sender: String, depth: Int64) -> NewEvent {
        let json: JSON = [
            "type": "m.room.message", "room_id": .string(room), "sender": .string(sender), "depth": .int(depth),
            "origin_server_ts": 1, "content": ["msgtype": "m.text", "body": "hi"],
        ]
        return NewEvent(event: Event(eventID: id, json: json), json: json.canonicalString, updatesState: false,
                        txn: TxnRef(userID: sender, deviceID: "D", txnID: id), pushActions: [
                            PushActionRow(userID: "@bob:x", highlight: false, threadID: "main", actionsJSON: "[\"notify\"]"),
                        ])
    }

    @Test func aSecondWriteToOneRoomInOneCommitIsStaleAndTheOthersCommit() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("alice")
        let (a, _) = try await RoomFixtures.createRoom(server, creator: alice)
        let (b, _) = try await RoomFixtures.createRoom(server, creator: alice)
        let store = EventStore(db: db)
        let lastA = try #require(try await store.lastPos(a)), lastB = try #require(try await store.lastPos(b))

        let outcomes = try await store.persist([
            RoomWrite(roomID: a, expectedLastPos: lastA, createRoom: nil,
                      events: [Self.message("$a1", room: a, sender: alice, depth: 10)], extremities: ["$a1"]),
            RoomWrite(roomID: a, expectedLastPos: lastA, createRoom: nil,
                      events: [Self.message("$a2", room: a, sender: alice, depth: 10)], extremities: ["$a2"]),
            RoomWrite(roomID: b, expectedLastPos: lastB, createRoom: nil,
                      events: [Self.message("$b1", room: b, sender: alice, depth: 10),
                               Self.message("$b2", room: b, sender: alice, depth: 11)], extremities: ["$b2"]),
        ])
        guard outcomes.count == 3, case .committed(let pa) = outcomes[0], case .stale = outcomes[1],
              case .committed(let pb) = outcomes[2] else {
            Issue.record("unexpected outcomes \(outcomes)")
            return
        }
        #expect(pa.count == 1 && pb.count == 2)
        #expect(pa[0] < pb[0] && pb[0] < pb[1])
        #expect(try await store.lastPos(a) == pa[0])
        #expect(try await store.lastPos(b) == pb[1])
        #expect(try await db.strings("SELECT event_id FROM forward_extremities WHERE room_id = \(a)") == ["$a1"])
        #expect(try await db.strings("SELECT event_id FROM forward_extremities WHERE room_id = \(b)") == ["$b2"])
        #expect(try await db.int64("SELECT count(*) FROM events WHERE event_id = '$a2'") == 0)
        #expect(try await db.int64("SELECT count(*) FROM event_push_actions WHERE event_id IN ('$a1', '$b1', '$b2')") == 3)
        #expect(try await db.int64("SELECT count(*) FROM event_txns WHERE txn_id IN ('$a1', '$a2', '$b1', '$b2')") == 3)
        #expect(try await db.currentStreamHead() == pb[1])
    }

    @Test func aWriteWhoseClientTransactionIsTakenIsStaleAndWritesNothing() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("alice")
        let (a, _) = try await RoomFixtures.createRoom(server, creator: alice)
        let store = EventStore(db: db)
        let first = try #require(try await store.lastPos(a))
        guard case .committed(let p) = try await store.persist([
            RoomWrite(roomID: a, expectedLastPos: first, createRoom: nil,
                      events: [Self.message("$t1", room: a, sender: alice, depth: 10)], extremities: ["$t1"]),
        ])[0] else { Issue.record("first write not committed"); return }

        // Same client transaction, built on the new position: another process's retry.
        let again = try await store.persist([
            RoomWrite(roomID: a, expectedLastPos: p[0], createRoom: nil,
                      events: [Self.message("$t1", room: a, sender: alice, depth: 11)], extremities: ["$t1"]),
        ])
        guard case .stale = again[0] else { Issue.record("retry was \(again[0])"); return }
        #expect(try await store.lastPos(a) == p[0])
        // A stale write of a room that does not exist, and an empty call, change nothing either.
        let none = try await store.persist([
            RoomWrite(roomID: "!missing:x", expectedLastPos: 5, createRoom: nil, events: [], extremities: []),
        ])
        guard case .stale = none[0] else { Issue.record("write to a missing room was \(none[0])"); return }
        #expect(try await store.persist([]).isEmpty)
        #expect(try await db.currentStreamHead() == p[0])
    }

    @Test func aWritesOwnStateEventWinsOverAStateChangeOnTheSameKey() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("alice"), bob = RoomFixtures.user("bob")
        let (a, _) = try await RoomFixtures.createRoom(server, creator: alice)
        let store = EventStore(db: db)
        let last = try #require(try await store.lastPos(a))
        func member(_ id: String, _ membership: String, depth: Int64) -> Event {
            Event(eventID: id, json: [
                "type": "m.room.member", "state_key": .string(bob), "room_id": .string(a), "sender": .string(bob),
                "depth": .int(depth), "origin_server_ts": 1, "content": ["membership": .string(membership)],
            ])
        }
        let invite = member("$invite", "invite", depth: 10), join = member("$join", "join", depth: 11)
        guard case .committed = try await store.persist([
            RoomWrite(roomID: a, expectedLastPos: last, createRoom: nil,
                      events: [NewEvent(event: invite, json: invite.json.canonicalString, updatesState: false, txn: nil,
                                        pushActions: [], placement: .outlier)], extremities: []),
        ])[0] else { Issue.record("outlier not stored"); return }
        let afterOutlier = try #require(try await store.lastPos(a))
        // The join, with the state from before it (bob invited) as a change to a stored event.
        guard case .committed = try await store.persist([
            RoomWrite(roomID: a, expectedLastPos: afterOutlier, createRoom: nil,
                      events: [NewEvent(event: join, json: join.json.canonicalString, updatesState: true, txn: nil,
                                        pushActions: [])], extremities: ["$join"], stateChanges: [invite]),
        ])[0] else { Issue.record("join not stored"); return }
        #expect(try await db.strings("""
            SELECT event_id FROM current_state WHERE room_id = \(a) AND type = 'm.room.member' AND state_key = \(bob)
            """) == ["$join"])
        #expect(try await db.strings("SELECT membership FROM memberships WHERE room_id = \(a) AND user_id = \(bob)") == ["join"])
        // The outlier became state: it is no longer an outlier.
        #expect(try await db.int64("SELECT placement::int8 FROM events WHERE event_id = '$invite'") == 1)
    }
}
