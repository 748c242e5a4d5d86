/// Which of a user's streams moved between two positions, read in one round trip, so an
/// incremental sync reads only those. Each part is one index probe; Postgres stays the truth
/// (no wake-up notice is trusted to say what changed).
public struct SyncChanges: Sendable {
    /// Joined rooms with timeline events in the range.
    public var roomsWithEvents: Set<String>
    /// A membership event in one of the joined rooms (device-list `changed`/`left` depend on it).
    public var memberChanges: Bool
    public var accountData: Bool
    /// To-device messages up to the head: new ones to send, or old ones to acknowledge.
    public var toDevice: Bool
    public var deviceLists: Bool
    public var presence: Bool
    public var receipts: Bool
    public var typing: Bool
    /// The device's one-time key counts per algorithm, and its unused fallback key types.
    public var oneTimeKeyCounts: [String: Int64]
    public var unusedFallbackKeyTypes: [String]
    /// The content of the user's `m.ignored_user_list`, if any.
    public var ignoredUserList: String?
}

/// The stream head, the user's memberships at it, and what moved since the client's position.
public struct SyncProbe: Sendable {
    public var head: Int64
    public var memberships: [MembershipRow]
    public var changes: SyncChanges
}

extension UserDataStore {
    /// One round trip for woken incremental syncs: where the stream is, each user's rooms, and
    /// which of their streams moved after their `since` (rooms are those joined at the head).
    /// Several syncs share one statement and one snapshot; answers come in request order.
    public func syncProbes(_ requests: [SyncProbeRequest]) async throws -> [SyncProbe] {
        var out = [SyncProbe?](repeating: nil, count: requests.count)
        for try await (i, probe) in try await db.client.execute(SyncChangesProbes(requests), logger: db.logger) { out[i] = probe }
        return try out.map { guard let p = $0 else { throw PostgresProbeError.noRow }; return p }
    }
}

/// The probe reads from the one-row stream head and aggregates: it returns one row per request.
enum PostgresProbeError: Error { case noRow }
