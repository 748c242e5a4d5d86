import Storage
import Synchronization

/// When this process last saw each user's presence stored as some state, so a long-polling
/// client's automatic "online" does not read the presence row on every request. Another
/// process's change is noticed once the entry is a minute old, as the stored row would be.
final class PresenceTouches: Sendable {
    private let seen = Mutex<[String: (state: String, at: Int64)]>([:])
    static let freshMillis: Int64 = 60_000

    func isFresh(_ userID: String, _ state: String) -> Bool {
        let now = nowMillis()
        return seen.withLock { m in
            guard let e = m[userID] else { return false }
            return e.state == state && now - e.at < Self.freshMillis
        }
    }

    func record(_ userID: String, _ state: String, at: Int64) {
        seen.withLock { m in
            // Bounded: a forgotten entry only costs one read later.
            if m.count > 100_000 { m.removeAll(keepingCapacity: true) }
            m[userID] = (state, at)
        }
    }
}
