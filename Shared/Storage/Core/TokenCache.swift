import Foundation
import Synchronization

/// Recently looked-up access tokens, so a long-polling client does not cost a token query on
/// every request. Revoking a user's tokens forgets that user's entries here at once and calls
/// the revocation listener, which tells the other processes (they forget them too); an entry
/// is trusted for `ttl` seconds at most, which bounds how long a revocation whose notice was
/// lost can go unseen elsewhere.
public final class TokenCache: Sendable {
    struct Entry { let owner: TokenOwner; let expires: Double }
    struct State {
        var entries: [String: Entry] = [:]
        /// Bumped by every revocation: a lookup that raced one does not store its answer.
        var generation: UInt64 = 0
        var listener: (@Sendable (String) -> Void)?
    }
    private let state = Mutex(State())
    let ttl: Double
    let capacity: Int

    public init(ttl: Double = 10, capacity: Int = 50_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// Called with the user ID after each local revocation.
    public func setRevocationListener(_ listener: @escaping @Sendable (String) -> Void) {
        state.withLock { $0.listener = listener }
    }

    func lookup(_ hash: String) -> (owner: TokenOwner?, generation: UInt64) {
        let now = Date().timeIntervalSince1970
        return state.withLock { s in
            guard let e = s.entries[hash] else { return (nil, s.generation) }
            if e.expires <= now {
                s.entries[hash] = nil
                return (nil, s.generation)
            }
            return (e.owner, s.generation)
        }
    }

    func store(_ hash: String, _ owner: TokenOwner, ifGeneration generation: UInt64) {
        let expires = Date().timeIntervalSince1970 + ttl
        state.withLock { s in
            guard s.generation == generation else { return }
            // Full of live tokens: start again rather than track recency on the hot path.
            if s.entries.count >= capacity { s.entries.removeAll(keepingCapacity: true) }
            s.entries[hash] = Entry(owner: owner, expires: expires)
        }
    }

    /// Forgets every cached token of `userID`; `announce` also tells the listener.
    public func forget(userID: String, announce: Bool = true) {
        let listener = state.withLock { s -> (@Sendable (String) -> Void)? in
            s.generation &+= 1
            s.entries = s.entries.filter { $0.value.owner.userID != userID }
            return s.listener
        }
        if announce { listener?(userID) }
    }
}
