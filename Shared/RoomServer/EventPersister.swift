import Logging
import Storage

/// Group commit across rooms: room actors hand in their batches, and everything that arrives
/// while a commit is in flight goes into the next single transaction. Each caller resumes
/// only after its transaction committed, so a 200 still means durable.
public actor EventPersister {
    private let store: EventStore
    private var pending: [(RoomWrite, CheckedContinuation<RoomWriteOutcome, any Error>)] = []
    private var running = false

    public init(store: EventStore) { self.store = store }

    public func persist(_ w: RoomWrite) async throws -> RoomWriteOutcome {
        try await withCheckedThrowingContinuation { c in
            pending.append((w, c))
            if !running {
                running = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            do {
                let outcomes = try await store.persist(batch.map(\.0))
                for (item, outcome) in zip(batch, outcomes) { item.1.resume(returning: outcome) }
            } catch {
                for item in batch { item.1.resume(throwing: error) }
            }
        }
        running = false
    }
}
