import MatrixCore
import RoomServer
import Storage
import Testing

/// A room's write handed in behind one still committing (`EventPersister.enqueue(after:)`):
/// it commits right after its predecessor, or not at all when that one did not.
@Suite(.serialized, .freshDatabase)
struct EventPersisterChainTests {
    /// Hands `w` in and returns its ticket and a way to wait for its outcome.
    static func handIn(_ p: EventPersister, _ w: RoomWrite, after: PersistTicket? = nil) async
        -> (PersistTicket, AsyncThrowingStream<RoomWriteOutcome, any Error>) {
        let (stream, c) = AsyncThrowingStream<RoomWriteOutcome, any Error>.makeStream()
        let ticket = await p.enqueue(w, after: after) { r in
            c.yield(with: r)
            c.finish()
        }
        return (ticket, stream)
    }

    static func outcome(_ s: AsyncThrowingStream<RoomWriteOutcome, any Error>) async throws -> RoomWriteOutcome {
        for try await o in s { return o }
        throw RoomServerError.conflict
    }

    static func write(_ room: String, after pos: Int64, _ ids: [String], sender: String, depth: Int64) -> RoomWrite {
        RoomWrite(roomID: room, expectedLastPos: pos, createRoom: nil,
                  events: ids.enumerated().map { EventPersistTests.message($1, room: room, sender: sender, depth: depth + Int64($0)) },
                  extremities: [ids.last!])
    }

    @Test func writesHandedInBehindOneAnotherCommitInOrder() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("alice")
        let (room, _) = try await RoomFixtures.createRoom(server, creator: alice)
        let store = EventStore(db: db)
        let persister = EventPersister(store: store)
        let start = try #require(try await store.lastPos(room))

        // Three writes handed in back to back: each built on the one before, none knowing
        // the position the one before will get. Whether they share a call or not, they commit
        // one after another.
        let (t1, s1) = await Self.handIn(persister, Self.write(room, after: start, ["$c1", "$c2"], sender: alice, depth: 10))
        let (t2, s2) = await Self.handIn(persister, Self.write(room, after: start, ["$c3"], sender: alice, depth: 12), after: t1)
        let (_, s3) = await Self.handIn(persister, Self.write(room, after: start, ["$c4"], sender: alice, depth: 13), after: t2)
        guard case .committed(let p1) = try await Self.outcome(s1), case .committed(let p2) = try await Self.outcome(s2),
              case .committed(let p3) = try await Self.outcome(s3) else {
            Issue.record("a chained write did not commit")
            return
        }
        #expect(p1.count == 2 && p2.count == 1 && p3.count == 1)
        let all = p1 + p2 + p3
        #expect(all == all.sorted() && Set(all).count == 4)
        #expect(try await store.lastPos(room) == p3[0])
        #expect(try await db.strings("SELECT event_id FROM forward_extremities WHERE room_id = \(room)") == ["$c4"])

        // Behind a write the room has moved on from since: stale.
        let (_, s4) = await Self.handIn(persister, Self.write(room, after: start, ["$c5"], sender: alice, depth: 14), after: t2)
        guard case .stale = try await Self.outcome(s4) else {
            Issue.record("a write behind an older write committed although the room moved on since")
            return
        }
        let (t5, s5) = await Self.handIn(persister, Self.write(room, after: p3[0], ["$c6"], sender: alice, depth: 14))
        guard case .committed(let p5) = try await Self.outcome(s5) else { Issue.record("plain write refused"); return }
        let (_, s6) = await Self.handIn(persister, Self.write(room, after: 0, ["$c7"], sender: alice, depth: 15), after: t5)
        guard case .committed(let p6) = try await Self.outcome(s6) else { Issue.record("write behind a committed one refused"); return }
        #expect(p6[0] > p5[0])
        #expect(try await store.lastPos(room) == p6[0])
    }

    @Test func writesBehindOneThatDidNotCommitAreStaleAndWriteNothing() async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("alice")
        let (room, _) = try await RoomFixtures.createRoom(server, creator: alice)
        let store = EventStore(db: db)
        let persister = EventPersister(store: store)
        let start = try #require(try await store.lastPos(room))

        // Built on a position the room is no longer at (another process wrote it).
        let (t1, s1) = await Self.handIn(persister, Self.write(room, after: start - 1, ["$s1"], sender: alice, depth: 10))
        let (t2, s2) = await Self.handIn(persister, Self.write(room, after: start, ["$s2"], sender: alice, depth: 11), after: t1)
        let (_, s3) = await Self.handIn(persister, Self.write(room, after: start, ["$s3"], sender: alice, depth: 12), after: t2)
        for s in [s1, s2, s3] {
            guard case .stale = try await Self.outcome(s) else { Issue.record("a write of the broken chain committed"); return }
        }
        #expect(try await db.int64("SELECT count(*) FROM events WHERE event_id IN ('$s1', '$s2', '$s3')") == 0)
        #expect(try await store.lastPos(room) == start)
        // Later writes of the room are not held back by it.
        let (_, s4) = await Self.handIn(persister, Self.write(room, after: start, ["$s4"], sender: alice, depth: 10))
        guard case .committed = try await Self.outcome(s4) else { Issue.record("a fresh write after the chain was refused"); return }
    }
}
