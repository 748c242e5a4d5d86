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

/// One probe of a woken incremental sync (see `SyncChangesProbes`).
public struct SyncProbeRequest: Sendable {
    public let userID: String, deviceID: String, since: Int64
    public init(userID: String, deviceID: String, since: Int64) { (self.userID, self.deviceID, self.since) = (userID, deviceID, since) }
}

/// $1 users, $2 devices, $3 sinces (one slot per probe). For each probe, from one snapshot:
/// the stream head and the user's memberships, what moved between `since` and that head in
/// the rooms joined at it, the device's key counts and the user's ignore list, which every
/// incremental response needs. Rows carry the probe's slot (from 1). Each joined room is one
/// index probe (`LATERAL … LIMIT 1`): the generic plan would otherwise hash-join whole room
/// histories when `since` is old.
struct SyncChangesProbes: BoundStatement {
    static let sql = """
        SELECT x.i, h.pos, p.*
        FROM stream_head h CROSS JOIN unnest($1::text[], $2::text[], $3::int8[]) WITH ORDINALITY AS x(u, d, s, i)
        CROSS JOIN LATERAL (
          WITH m AS MATERIALIZED (
            SELECT room_id, membership, event_id, sender, stream_pos FROM memberships WHERE user_id = x.u AND NOT forgotten),
          j AS (SELECT m.room_id FROM m WHERE m.membership = 'join' AND m.stream_pos <= h.pos)
          SELECT ARRAY(SELECT room_id FROM m), ARRAY(SELECT membership FROM m), ARRAY(SELECT event_id FROM m),
            ARRAY(SELECT sender FROM m), ARRAY(SELECT stream_pos FROM m),
            ARRAY(SELECT j.room_id FROM j CROSS JOIN LATERAL (
                    SELECT 1 FROM events e WHERE e.room_id = j.room_id AND e.stream_pos > x.s AND e.stream_pos <= h.pos
                    AND e.placement = 0 LIMIT 1) y),
            EXISTS(SELECT 1 FROM j CROSS JOIN LATERAL (
                     SELECT 1 FROM events e WHERE e.room_id = j.room_id AND e.type = 'm.room.member' AND e.state_key IS NOT NULL
                     AND e.stream_pos > x.s AND e.stream_pos <= h.pos AND e.placement = 0 LIMIT 1) y),
            EXISTS(SELECT 1 FROM account_data WHERE user_id = x.u AND stream_pos > x.s AND stream_pos <= h.pos),
            EXISTS(SELECT 1 FROM to_device WHERE user_id = x.u AND device_id = x.d AND stream_pos <= h.pos),
            EXISTS(SELECT 1 FROM device_list_changes WHERE stream_pos > x.s AND stream_pos <= h.pos),
            EXISTS(SELECT 1 FROM presence WHERE stream_pos > x.s AND stream_pos <= h.pos),
            EXISTS(SELECT 1 FROM j JOIN receipts r ON r.room_id = j.room_id AND r.stream_pos > x.s AND r.stream_pos <= h.pos),
            EXISTS(SELECT 1 FROM j JOIN typing t ON t.room_id = j.room_id AND t.stream_pos > x.s AND t.stream_pos <= h.pos),
            ARRAY(SELECT algorithm FROM one_time_keys WHERE user_id = x.u AND device_id = x.d GROUP BY algorithm ORDER BY algorithm),
            ARRAY(SELECT count(*) FROM one_time_keys WHERE user_id = x.u AND device_id = x.d GROUP BY algorithm ORDER BY algorithm),
            ARRAY(SELECT algorithm FROM fallback_keys WHERE user_id = x.u AND device_id = x.d AND NOT used ORDER BY algorithm),
            (SELECT content FROM account_data WHERE user_id = x.u AND room_id = '' AND type = 'm.ignored_user_list')
        ) p
        """
    let bindings: PostgresBindings
    let requests: [SyncProbeRequest]
    init(_ requests: [SyncProbeRequest]) {
        self.requests = requests
        bindings = bind {
            $0.append(requests.map(\.userID))
            $0.append(requests.map(\.deviceID))
            $0.append(requests.map(\.since))
        }
    }
    /// The probe's slot (from 0) and its answer.
    func decodeRow(_ row: PostgresRow) throws -> (Int, SyncProbe) {
        let (slot, head, rooms, ms, events, senders, positions, r, m, a, t, d, p, rc, ty, algs, counts, fallback, ignored) = try row.decode(
            (Int64, Int64, [String], [String], [String], [String], [Int64],
             [String], Bool, Bool, Bool, Bool, Bool, Bool, Bool, [String], [Int64], [String], String?).self)
        let i = Int(slot) - 1
        guard requests.indices.contains(i) else { throw PostgresProbeError.noRow }
        let userID = requests[i].userID
        let memberships = rooms.indices.map { k in
            MembershipRow(roomID: rooms[k], userID: userID, membership: ms[k], eventID: events[k], sender: senders[k],
                          streamPos: positions[k])
        }
        let changes = SyncChanges(roomsWithEvents: Set(r), memberChanges: m, accountData: a, toDevice: t, deviceLists: d,
                                  presence: p, receipts: rc, typing: ty,
                                  oneTimeKeyCounts: Dictionary(zip(algs, counts), uniquingKeysWith: { a, _ in a }),
                                  unusedFallbackKeyTypes: fallback, ignoredUserList: ignored)
        return (i, SyncProbe(head: head, memberships: memberships, changes: changes))
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
