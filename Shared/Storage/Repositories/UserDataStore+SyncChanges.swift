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

extension UserDataStore {
    public func syncChanges(userID: String, deviceID: String, joinedRooms rooms: [String],
                            since: Int64, upTo: Int64) async throws -> SyncChanges {
        let probe = SyncChangesProbe(userID: userID, deviceID: deviceID, rooms: rooms, since: since, upTo: upTo)
        for try await changes in try await db.client.execute(probe, logger: db.logger) { return changes }
        throw PostgresProbeError.noRow
    }
}

/// The probe is one SELECT without FROM: it always returns exactly one row.
enum PostgresProbeError: Error { case noRow }
