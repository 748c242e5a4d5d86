import Synchronization

/// Parsed sync filters, by the `filter` parameter that named them (inline JSON, or a user's
/// stored filter ID). A long-polling client sends the same filter on every request, and
/// stored filters never change once created, so an entry never goes stale; the cache only
/// forgets everything when it grows past its bound. Only filters that parsed are kept.
final class SyncFilterCache: Sendable {
    private let filters = Mutex<[Key: SyncFilter]>([:])
    private let capacity: Int

    struct Key: Hashable, Sendable {
        /// Empty for inline filters, which mean the same for everyone.
        let userID: String
        let param: String
    }

    init(capacity: Int = 10_000) { self.capacity = capacity }

    func lookup(_ key: Key) -> SyncFilter? { filters.withLock { $0[key] } }

    func store(_ filter: SyncFilter, for key: Key) {
        filters.withLock { f in
            if f.count >= capacity { f.removeAll(keepingCapacity: true) }
            f[key] = filter
        }
    }
}
