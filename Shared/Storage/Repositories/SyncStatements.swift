import PostgresNIO

/// The reads every long-polling /sync makes, prepared once per connection: a woken sync runs
/// them for each client, so parsing and planning them each time would be most of their cost.

struct UserMemberships: BoundStatement {
    static let sql = """
        SELECT room_id, user_id, membership, event_id, sender, stream_pos FROM memberships
        WHERE user_id = $1 AND NOT forgotten
        """
    let bindings: PostgresBindings
    init(userID: String) { bindings = bind { $0.append(userID) } }
    func decodeRow(_ row: PostgresRow) throws -> MembershipRow {
        let (r, u, m, e, s, p) = try row.decode((String, String, String, String, String, Int64).self)
        return MembershipRow(roomID: r, userID: u, membership: m, eventID: e, sender: s, streamPos: p)
    }
}

/// $1 user, $2 device, $3 joined rooms, $4 since, $5 up to. Also the device's key counts and
/// the user's ignore list, which every incremental response needs anyway.
struct SyncChangesProbe: BoundStatement {
    static let sql = """
        SELECT
          ARRAY(SELECT DISTINCT room_id FROM events WHERE room_id = ANY($3) AND stream_pos > $4 AND stream_pos <= $5
                AND placement = 0),
          EXISTS(SELECT 1 FROM events WHERE room_id = ANY($3) AND stream_pos > $4 AND stream_pos <= $5
                 AND placement = 0 AND type = 'm.room.member'),
          EXISTS(SELECT 1 FROM account_data WHERE user_id = $1 AND stream_pos > $4 AND stream_pos <= $5),
          EXISTS(SELECT 1 FROM to_device WHERE user_id = $1 AND device_id = $2 AND stream_pos <= $5),
          EXISTS(SELECT 1 FROM device_list_changes WHERE stream_pos > $4 AND stream_pos <= $5),
          EXISTS(SELECT 1 FROM presence WHERE stream_pos > $4 AND stream_pos <= $5),
          EXISTS(SELECT 1 FROM receipts WHERE room_id = ANY($3) AND stream_pos > $4 AND stream_pos <= $5),
          EXISTS(SELECT 1 FROM typing WHERE room_id = ANY($3) AND stream_pos > $4 AND stream_pos <= $5),
          ARRAY(SELECT algorithm FROM one_time_keys WHERE user_id = $1 AND device_id = $2 GROUP BY algorithm ORDER BY algorithm),
          ARRAY(SELECT count(*) FROM one_time_keys WHERE user_id = $1 AND device_id = $2 GROUP BY algorithm ORDER BY algorithm),
          ARRAY(SELECT algorithm FROM fallback_keys WHERE user_id = $1 AND device_id = $2 AND NOT used ORDER BY algorithm),
          (SELECT content FROM account_data WHERE user_id = $1 AND room_id = '' AND type = 'm.ignored_user_list')
        """
    let bindings: PostgresBindings
    init(userID: String, deviceID: String, rooms: [String], since: Int64, upTo: Int64) {
        bindings = bind {
            $0.append(userID)
            $0.append(deviceID)
            $0.append(rooms)
            $0.append(since)
            $0.append(upTo)
        }
    }
    func decodeRow(_ row: PostgresRow) throws -> SyncChanges {
        let (r, m, a, t, d, p, rc, ty, algs, counts, fallback, ignored) = try row.decode(
            ([String], Bool, Bool, Bool, Bool, Bool, Bool, Bool, [String], [Int64], [String], String?).self)
        return SyncChanges(roomsWithEvents: Set(r), memberChanges: m, accountData: a, toDevice: t, deviceLists: d,
                           presence: p, receipts: rc, typing: ty,
                           oneTimeKeyCounts: Dictionary(zip(algs, counts), uniquingKeysWith: { a, _ in a }),
                           unusedFallbackKeyTypes: fallback, ignoredUserList: ignored)
    }
}

/// One-time key counts per algorithm, then unused fallback key types (count 0, flag true).
struct DeviceKeyCounts: BoundStatement {
    static let sql = """
        SELECT algorithm, count(*), false FROM one_time_keys WHERE user_id = $1 AND device_id = $2 GROUP BY algorithm
        UNION ALL
        SELECT algorithm, 0, true FROM fallback_keys WHERE user_id = $1 AND device_id = $2 AND NOT used
        """
    let bindings: PostgresBindings
    init(userID: String, deviceID: String) { bindings = bind { $0.append(userID); $0.append(deviceID) } }
    func decodeRow(_ row: PostgresRow) throws -> (String, Int64, Bool) { try row.decode((String, Int64, Bool).self) }
}
