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
        let rows = try await db.query("""
            SELECT
              ARRAY(SELECT DISTINCT room_id FROM events WHERE room_id = ANY(\(rooms)) AND stream_pos > \(since)
                    AND stream_pos <= \(upTo) AND placement = 0),
              EXISTS(SELECT 1 FROM events WHERE room_id = ANY(\(rooms)) AND stream_pos > \(since) AND stream_pos <= \(upTo)
                     AND placement = 0 AND type = 'm.room.member'),
              EXISTS(SELECT 1 FROM account_data WHERE user_id = \(userID) AND stream_pos > \(since) AND stream_pos <= \(upTo)),
              EXISTS(SELECT 1 FROM to_device WHERE user_id = \(userID) AND device_id = \(deviceID) AND stream_pos <= \(upTo)),
              EXISTS(SELECT 1 FROM device_list_changes WHERE stream_pos > \(since) AND stream_pos <= \(upTo)),
              EXISTS(SELECT 1 FROM presence WHERE stream_pos > \(since) AND stream_pos <= \(upTo)),
              EXISTS(SELECT 1 FROM receipts WHERE room_id = ANY(\(rooms)) AND stream_pos > \(since) AND stream_pos <= \(upTo)),
              EXISTS(SELECT 1 FROM typing WHERE room_id = ANY(\(rooms)) AND stream_pos > \(since) AND stream_pos <= \(upTo))
            """)
        for try await (r, m, a, t, d, p, rc, ty) in rows.decode(([String], Bool, Bool, Bool, Bool, Bool, Bool, Bool).self) {
            return SyncChanges(roomsWithEvents: Set(r), memberChanges: m, accountData: a, toDevice: t, deviceLists: d,
                               presence: p, receipts: rc, typing: ty)
        }
        return SyncChanges(roomsWithEvents: [], memberChanges: true, accountData: true, toDevice: true, deviceLists: true,
                           presence: true, receipts: true, typing: true)
    }
}
