import MatrixCore
import Storage

/// Reads that many syncs ask for at once, shared: one message wakes every long-poll of its
/// room, and each woken sync asks for the same new events of that room and the same
/// history-visibility entries. Keys end at a stream position the asking sync already saw as
/// the head, and everything at or below the head is committed, so a result stays right for
/// its key; it is kept a moment only, so redactions and state fixes that come later reach
/// the next reads.
actor SharedReads {
    private struct Entry<Value: Sendable> {
        let read: Task<Value, any Error>
        let expires: ContinuousClock.Instant
    }

    struct TimelineKey: Hashable, Sendable {
        let rooms: [String], after: [Int64], upTo: [Int64], limits: [Int]
        init(_ slices: [TimelineSlice]) {
            rooms = slices.map(\.roomID); after = slices.map(\.after); upTo = slices.map(\.upTo); limits = slices.map(\.limit)
        }
    }

    struct StateHistoryKey: Hashable, Sendable {
        let rooms: [String], type: String, stateKey: String, asOf: Int64
    }

    private let events: EventStore
    private let lifetime: Duration
    private let capacity: Int
    private var timelines: [TimelineKey: Entry<[String: [StoredEvent]]>] = [:]
    private var histories: [StateHistoryKey: Entry<[String: [(Int64, JSON)]]>] = [:]

    init(events: EventStore, lifetime: Duration = .seconds(1), capacity: Int = 256) {
        self.events = events
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// `EventStore.latestEvents`, shared with identical reads in flight or just done.
    func latestEvents(_ slices: [TimelineSlice]) async throws -> [String: [StoredEvent]] {
        let key = TimelineKey(slices), events = self.events
        let read = Self.entry(&timelines, key, lifetime: lifetime, capacity: capacity) {
            try await events.latestEvents(slices)
        }
        do { return try await read.value } catch { timelines[key] = nil; throw error }
    }

    /// `EventStore.stateHistory` as of `asOf` (a head the caller saw), shared the same way.
    func stateHistory(rooms: [String], type: String, stateKey: String, asOf: Int64) async throws -> [String: [(Int64, JSON)]] {
        let key = StateHistoryKey(rooms: rooms, type: type, stateKey: stateKey, asOf: asOf), events = self.events
        let read = Self.entry(&histories, key, lifetime: lifetime, capacity: capacity) {
            try await events.stateHistory(rooms: rooms, type: type, stateKey: stateKey)
        }
        do {
            // A read made later may hold newer entries; they are not part of this key's answer.
            return try await read.value.mapValues { $0.filter { $0.0 <= asOf } }
        } catch {
            histories[key] = nil
            throw error
        }
    }

    /// The read for `key`: the one in flight or just done, or a new one.
    private static func entry<Key: Hashable, Value: Sendable>(
        _ table: inout [Key: Entry<Value>], _ key: Key, lifetime: Duration, capacity: Int,
        _ read: @escaping @Sendable () async throws -> Value
    ) -> Task<Value, any Error> {
        let now = ContinuousClock.now
        if let e = table[key], e.expires > now { return e.read }
        if table.count >= capacity { table = table.filter { $0.value.expires > now } }
        if table.count >= capacity { table.removeAll(keepingCapacity: true) }
        let task = Task { try await read() }
        table[key] = Entry(read: task, expires: now + lifetime)
        return task
    }
}
