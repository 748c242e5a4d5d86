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

/// $1 user, $2 device, $3 since. The stream head and the user's memberships, from the same
/// snapshot as what moved between `since` and that head in the rooms joined at it; also the
/// device's key counts and the user's ignore list, which every incremental response needs.
/// Each joined room is one index probe (`LATERAL … LIMIT 1`): the generic plan would otherwise
/// hash-join whole room histories when `since` is old.
struct SyncChangesProbe: BoundStatement {
    static let sql = """
        WITH h AS (SELECT pos FROM stream_head),
        m AS MATERIALIZED (
            SELECT room_id, membership, event_id, sender, stream_pos FROM memberships WHERE user_id = $1 AND NOT forgotten),
        j AS (SELECT m.room_id FROM m, h WHERE m.membership = 'join' AND m.stream_pos <= h.pos),
        ma AS (SELECT array_agg(room_id) AS r, array_agg(membership) AS ms, array_agg(event_id) AS e,
                      array_agg(sender) AS s, array_agg(stream_pos) AS p FROM m)
        SELECT h.pos, COALESCE(ma.r, '{}'), COALESCE(ma.ms, '{}'), COALESCE(ma.e, '{}'), COALESCE(ma.s, '{}'),
          COALESCE(ma.p, '{}'),
          ARRAY(SELECT j.room_id FROM j CROSS JOIN LATERAL (
                  SELECT 1 FROM events e WHERE e.room_id = j.room_id AND e.stream_pos > $3 AND e.stream_pos <= h.pos
                  AND e.placement = 0 LIMIT 1) x),
          EXISTS(SELECT 1 FROM j CROSS JOIN LATERAL (
                   SELECT 1 FROM events e WHERE e.room_id = j.room_id AND e.type = 'm.room.member' AND e.state_key IS NOT NULL
                   AND e.stream_pos > $3 AND e.stream_pos <= h.pos AND e.placement = 0 LIMIT 1) x),
          EXISTS(SELECT 1 FROM account_data WHERE user_id = $1 AND stream_pos > $3 AND stream_pos <= h.pos),
          EXISTS(SELECT 1 FROM to_device WHERE user_id = $1 AND device_id = $2 AND stream_pos <= h.pos),
          EXISTS(SELECT 1 FROM device_list_changes WHERE stream_pos > $3 AND stream_pos <= h.pos),
          EXISTS(SELECT 1 FROM presence WHERE stream_pos > $3 AND stream_pos <= h.pos),
          EXISTS(SELECT 1 FROM j JOIN receipts r ON r.room_id = j.room_id AND r.stream_pos > $3 AND r.stream_pos <= h.pos),
          EXISTS(SELECT 1 FROM j JOIN typing t ON t.room_id = j.room_id AND t.stream_pos > $3 AND t.stream_pos <= h.pos),
          ARRAY(SELECT algorithm FROM one_time_keys WHERE user_id = $1 AND device_id = $2 GROUP BY algorithm ORDER BY algorithm),
          ARRAY(SELECT count(*) FROM one_time_keys WHERE user_id = $1 AND device_id = $2 GROUP BY algorithm ORDER BY algorithm),
          ARRAY(SELECT algorithm FROM fallback_keys WHERE user_id = $1 AND device_id = $2 AND NOT used ORDER BY algorithm),
          (SELECT content FROM account_data WHERE user_id = $1 AND room_id = '' AND type = 'm.ignored_user_list')
        FROM h, ma
        """
    let bindings: PostgresBindings
    let userID: String
    init(userID: String, deviceID: String, since: Int64) {
        self.userID = userID
        bindings = bind {
            $0.append(userID)
            $0.append(deviceID)
            $0.append(since)
        }
    }
    func decodeRow(_ row: PostgresRow) throws -> SyncProbe {
        let (head, rooms, ms, events, senders, positions, r, m, a, t, d, p, rc, ty, algs, counts, fallback, ignored) = try row.decode(
            (Int64, [String], [String], [String], [String], [Int64],
             [String], Bool, Bool, Bool, Bool, Bool, Bool, Bool, [String], [Int64], [String], String?).self)
        let memberships = rooms.indices.map { i in
            MembershipRow(roomID: rooms[i], userID: userID, membership: ms[i], eventID: events[i], sender: senders[i],
                          streamPos: positions[i])
        }
        let changes = SyncChanges(roomsWithEvents: Set(r), memberChanges: m, accountData: a, toDevice: t, deviceLists: d,
                                  presence: p, receipts: rc, typing: ty,
                                  oneTimeKeyCounts: Dictionary(zip(algs, counts), uniquingKeysWith: { a, _ in a }),
                                  unusedFallbackKeyTypes: fallback, ignoredUserList: ignored)
        return SyncProbe(head: head, memberships: memberships, changes: changes)
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
