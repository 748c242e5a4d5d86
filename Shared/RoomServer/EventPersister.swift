import Logging
import Storage
import Synchronization

/// Group commit across rooms: room actors hand in their batches, and everything that arrives
/// while a commit is in flight goes into the next single transaction. Each caller hears back
/// only after its transaction committed, so a 200 still means durable.
///
/// A room may hand in a write built on top of its previous one while that one is still being
/// committed (`after:`): it commits only if the previous one did, right after it. In the same
/// transaction the two are one write; in a later one it expects the room where the previous
/// one left it.
public actor EventPersister {
    private let store: EventStore
    private var pending: [Entry] = []
    private var running = false

    struct Entry {
        var write: RoomWrite
        let after: PersistTicket?
        let ticket: PersistTicket
        let done: @Sendable (Result<RoomWriteOutcome, any Error>) -> Void
    }

    public init(store: EventStore) { self.store = store }

    public func persist(_ w: RoomWrite) async throws -> RoomWriteOutcome {
        try await withCheckedThrowingContinuation { c in
            _ = enqueue(w, after: nil) { c.resume(with: $0) }
        }
    }

    /// Queues `w` and returns at once; `done` is called once its transaction has ended.
    /// `after`: the ticket of the write `w` was built on, if that one had no outcome yet.
    public func enqueue(_ w: RoomWrite, after: PersistTicket?,
                        done: @escaping @Sendable (Result<RoomWriteOutcome, any Error>) -> Void) -> PersistTicket {
        let ticket = PersistTicket()
        pending.append(Entry(write: w, after: after, ticket: ticket, done: done))
        if !running {
            running = true
            Task { await self.drain() }
        }
        return ticket
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            // Writes that follow one in this batch join it; the others learn where their
            // predecessor left the room, or that it did not commit.
            var calls: [RoomWrite] = []
            var owners: [[Entry]] = []
            var callOf: [ObjectIdentifier: Int] = [:]
            var deferred: [Entry] = []
            for var entry in batch {
                if let prev = entry.after {
                    if let i = callOf[ObjectIdentifier(prev)], calls[i].canBeFollowed(by: entry.write) {
                        calls[i] = calls[i].followedBy(entry.write)
                        owners[i].append(entry)
                        callOf[ObjectIdentifier(entry.ticket)] = i
                        continue
                    }
                    switch prev.outcome {
                    case nil:
                        // Its predecessor commits in this call but cannot take it along: next call.
                        deferred.append(entry)
                        continue
                    case .refused?:
                        entry.ticket.resolve(nil)
                        entry.done(.success(.stale))
                        continue
                    case .committed(let lastPos)?:
                        entry.write = entry.write.expecting(lastPos)
                    }
                }
                callOf[ObjectIdentifier(entry.ticket)] = calls.count
                calls.append(entry.write)
                owners.append([entry])
            }
            do {
                let outcomes = try await store.persist(calls)
                for (entries, outcome) in zip(owners, outcomes) { Self.deliver(outcome, to: entries) }
            } catch {
                for entries in owners {
                    for e in entries { e.ticket.resolve(nil); e.done(.failure(error)) }
                }
            }
            pending.insert(contentsOf: deferred, at: 0)
        }
        running = false
    }

    /// Splits one call's outcome among the writes joined into it, in order.
    private static func deliver(_ outcome: RoomWriteOutcome, to entries: [Entry]) {
        guard case .committed(let positions) = outcome else {
            for e in entries { e.ticket.resolve(nil); e.done(.success(.stale)) }
            return
        }
        var rest = positions[...]
        var lastPos = entries[0].write.expectedLastPos ?? 0
        for e in entries {
            let mine = Array(rest.prefix(e.write.events.count))
            rest = rest.dropFirst(mine.count)
            lastPos = mine.last ?? lastPos
            e.ticket.resolve(lastPos)
            e.done(.success(.committed(mine)))
        }
    }
}

/// Where one handed-in write left its room: the room's position after it once it committed,
/// nothing when it did not. Set before the writer hears back.
public final class PersistTicket: Sendable {
    enum Outcome { case committed(lastPos: Int64), refused }
    private let state = Mutex<Outcome?>(nil)

    var outcome: Outcome? { state.withLock { $0 } }
    func resolve(_ lastPos: Int64?) { state.withLock { $0 = lastPos.map { .committed(lastPos: $0) } ?? .refused } }
}

extension RoomWrite {
    /// Whether `next`, built on top of this write, can join it. State changes take the
    /// position of their write's last event, so only plain event writes are joined.
    func canBeFollowed(by next: RoomWrite) -> Bool {
        next.roomID == roomID && next.createRoom == nil && stateChanges.isEmpty && next.stateChanges.isEmpty
    }

    /// This write with `next` (built on top of it) appended: one write of both.
    func followedBy(_ next: RoomWrite) -> RoomWrite {
        RoomWrite(roomID: roomID, expectedLastPos: expectedLastPos, createRoom: createRoom,
                  events: events + next.events, extremities: next.extremities)
    }

    /// This write, built on the room as it is at `lastPos`.
    func expecting(_ lastPos: Int64) -> RoomWrite {
        RoomWrite(roomID: roomID, expectedLastPos: lastPos, createRoom: createRoom, events: events,
                  extremities: extremities, stateChanges: stateChanges)
    }
}
