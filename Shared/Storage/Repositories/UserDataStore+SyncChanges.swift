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
}

extension UserDataStore {
    public func syncChanges(userID: String, deviceID: String, joinedRooms rooms: [String],
                            since: Int64, upTo: Int64) async throws -> SyncChanges {
        let probe = SyncChangesProbe(userID: userID, deviceID: deviceID, rooms: rooms, since: since, upTo: upTo)
        for try await changes in try await db.client.execute(probe, logger: db.logger) { return changes }
        return SyncChanges(roomsWithEvents: [], memberChanges: true, accountData: true, toDevice: true, deviceLists: true,
                           presence: true, receipts: true, typing: true)
    }
}
