import MatrixCore
import PostgresNIO

/// The rest of what a woken /sync reads for each client, prepared: unprepared, Postgres plans
/// these joins on every call, which cost more than running them.

/// The stream head, the user's memberships, and for joined rooms the position of the latest
/// event at that head (a sliding-sync room list orders by it), from one snapshot. One row of
/// column arrays: a row per membership cost more to receive and decode, row by row, than the
/// query took to run.
struct HeadMembershipsAndActivity: BoundStatement {
    static let sql = """
        SELECT h.pos, coalesce(a.rooms, '{}'), coalesce(a.users, '{}'), coalesce(a.memberships, '{}'),
               coalesce(a.events, '{}'), coalesce(a.senders, '{}'), coalesce(a.positions, '{}'), coalesce(a.activity, '{}')
        FROM stream_head h LEFT JOIN LATERAL (
            SELECT array_agg(m.room_id) AS rooms, array_agg(m.user_id) AS users, array_agg(m.membership) AS memberships,
                   array_agg(m.event_id) AS events, array_agg(m.sender) AS senders, array_agg(m.stream_pos) AS positions,
                   array_agg(CASE WHEN m.membership <> 'join' THEN m.stream_pos WHEN r.last_pos <= h.pos THEN r.last_pos
                       ELSE coalesce((SELECT e.stream_pos FROM events e
                                      WHERE e.room_id = m.room_id AND e.stream_pos <= h.pos AND e.placement = 0
                                      ORDER BY e.stream_pos DESC LIMIT 1), m.stream_pos) END) AS activity
            FROM memberships m LEFT JOIN rooms r ON r.room_id = m.room_id
            WHERE m.user_id = $1 AND NOT m.forgotten) a ON true
        """
    let bindings: PostgresBindings
    init(userID: String) { bindings = bind { $0.append(userID) } }

    struct Row {
        let head: Int64
        let memberships: [MembershipRow]
        /// Of joined rooms: the position of their latest event up to the head (the join's when there is none).
        let activity: [String: Int64]
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        var c = RowCells(row)
        let head: Int64 = try c.next()
        let rooms: [String] = try c.next(), users: [String] = try c.next(), kinds: [String] = try c.next()
        let events: [String] = try c.next(), senders: [String] = try c.next()
        let positions: [Int64] = try c.next(), activity: [Int64] = try c.next()
        let n = rooms.count
        guard [users.count, kinds.count, events.count, senders.count, positions.count, activity.count].allSatisfy({ $0 == n }) else {
            throw StorageError.unexpected("membership arrays of different lengths")
        }
        var memberships: [MembershipRow] = []
        memberships.reserveCapacity(n)
        var active: [String: Int64] = [:]
        for i in 0..<n {
            memberships.append(MembershipRow(roomID: rooms[i], userID: users[i], membership: kinds[i], eventID: events[i],
                                             sender: senders[i], streamPos: positions[i]))
            if kinds[i] == "join" { active[rooms[i]] = activity[i] }
        }
        return Row(head: head, memberships: memberships, activity: active)
    }
}

/// $1 rooms, $2 after, $3 up to, $4 limit (arrays, one slot per room): the latest timeline
/// events of each slot, newest first, without their JSON (see `EventRef`).
struct LatestTimelineEvents: BoundStatement {
    static let sql = """
        SELECT x.r, \(EventStore.eventRefColumns)
        FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[]) AS x(r, a, u, l)
        CROSS JOIN LATERAL (
            SELECT e.event_id, e.stream_pos FROM events e
            WHERE e.room_id = x.r AND e.stream_pos > x.a AND e.stream_pos <= x.u AND e.placement = 0
            ORDER BY e.stream_pos DESC LIMIT x.l) e
        LEFT JOIN redactions r ON r.redacts = e.event_id
        ORDER BY x.r, e.stream_pos DESC
        """
    let bindings: PostgresBindings
    init(_ slices: [TimelineSlice]) {
        bindings = bind {
            $0.append(slices.map(\.roomID))
            $0.append(slices.map(\.after))
            $0.append(slices.map(\.upTo))
            $0.append(slices.map { Int64($0.limit) })
        }
    }
    func decodeRow(_ row: PostgresRow) throws -> (String, EventRef) {
        var c = RowCells(row)
        let room: String = try c.next()
        return (room, try EventRef(&c))
    }
}

/// $1 rooms, $2 type, $3 state key: every version of one state entry, oldest first.
struct StateEntryHistory: BoundStatement {
    static let sql = """
        SELECT room_id, stream_pos, json FROM events
        WHERE room_id = ANY($1) AND type = $2 AND state_key = $3 AND placement < 2 ORDER BY stream_pos
        """
    let bindings: PostgresBindings
    init(rooms: [String], type: String, stateKey: String) {
        bindings = bind { $0.append(rooms); $0.append(type); $0.append(stateKey) }
    }
    func decodeRow(_ row: PostgresRow) throws -> (String, Int64, String) { try row.decode((String, Int64, String).self) }
}

/// $1 user, $2 room ("" for global), $3 type.
struct AccountDataContent: BoundStatement {
    static let sql = "SELECT content FROM account_data WHERE user_id = $1 AND room_id = $2 AND type = $3"
    let bindings: PostgresBindings
    init(userID: String, roomID: String, type: String) {
        bindings = bind { $0.append(userID); $0.append(roomID); $0.append(type) }
    }
    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
}

/// $1 user, $2 room, $3 types: the contents of those of the types the user has set.
struct AccountDataContents: BoundStatement {
    static let sql = "SELECT type, content FROM account_data WHERE user_id = $1 AND room_id = $2 AND type = ANY($3)"
    let bindings: PostgresBindings
    init(userID: String, roomID: String, types: [String]) {
        bindings = bind { $0.append(userID); $0.append(roomID); $0.append(types) }
    }
    func decodeRow(_ row: PostgresRow) throws -> (String, String) { try row.decode((String, String).self) }
}

/// $1 slots and $2 rooms (one entry per asked room), $3 users (by slot, from 1): notification
/// and highlight counts per asked room and thread after the slot user's unthreaded read
/// receipt and the receipt of that thread (own and shared notifications, migration 0017).
/// Each room is its own index lookups.
struct UnreadCounts: BoundStatement {
    static let sql = """
        SELECT q.i, q.room_id, c.thread_id, c.n, c.h
        FROM unnest($1::int4[], $2::text[]) AS q0(i, room_id)
        CROSS JOIN LATERAL (SELECT q0.i, q0.room_id, ($3::text[])[q0.i] AS user_id) q
        CROSS JOIN LATERAL (
            WITH rd AS (
                SELECT r.thread_id, MAX(e.stream_pos) AS pos FROM receipts r JOIN events e ON e.event_id = r.event_id
                WHERE r.room_id = q.room_id AND r.user_id = q.user_id AND r.receipt_type IN ('m.read', 'm.read.private')
                GROUP BY r.thread_id)
            SELECT a.thread_id, count(*) AS n, count(*) FILTER (WHERE a.highlight) AS h
            FROM myelin_room_notifications(q.user_id, q.room_id) a LEFT JOIN rd t ON t.thread_id = a.thread_id
            WHERE a.stream_pos > COALESCE((SELECT pos FROM rd WHERE thread_id = ''), 0) AND a.stream_pos > COALESCE(t.pos, 0)
            GROUP BY a.thread_id) c
        """
    let bindings: PostgresBindings
    /// One slot per request: the user and the rooms asked for.
    init(_ requests: [UnreadRequest]) {
        bindings = bind {
            $0.append(requests.enumerated().flatMap { i, r in Array(repeating: Int32(i + 1), count: r.rooms.count) })
            $0.append(requests.flatMap(\.rooms))
            $0.append(requests.map(\.userID))
        }
    }
    /// The slot (from 0), room, thread, notifications and highlights.
    func decodeRow(_ row: PostgresRow) throws -> (Int, String, String, Int64, Int64) {
        let (i, r, th, n, h) = try row.decode((Int32, String, String, Int64, Int64).self)
        return (Int(i) - 1, r, th, n, h)
    }
}

/// $1 rooms, $2 types, $3 users: the current state of each room, limited to events of the
/// types (any state key) and memberships of the users, without their JSON (see `EventRef`).
struct CurrentStateOfRooms: BoundStatement {
    static let sql = """
        SELECT \(EventStore.eventRefColumns) FROM current_state c JOIN events e ON e.event_id = c.event_id
        LEFT JOIN redactions r ON r.redacts = e.event_id
        WHERE c.room_id = ANY($1) AND (c.type = ANY($2) OR (c.type = 'm.room.member' AND c.state_key = ANY($3)))
        """
    let bindings: PostgresBindings
    init(rooms: [String], types: [String], members: [String]) {
        bindings = bind { $0.append(rooms); $0.append(types); $0.append(members) }
    }
    func decodeRow(_ row: PostgresRow) throws -> EventRef { try EventRef(row) }
}

/// $1 event IDs: what the event cache keeps of each (JSON and transaction), for those it lacks.
struct EventBodies: BoundStatement {
    static let sql = "SELECT event_id, json, txn_device, txn_id FROM events WHERE event_id = ANY($1)"
    let bindings: PostgresBindings
    init(_ eventIDs: [String]) { bindings = bind { $0.append(eventIDs) } }
    func decodeRow(_ row: PostgresRow) throws -> (String, String, String?, String?) {
        try row.decode((String, String, String?, String?).self)
    }
}

/// $1 rooms, $2 viewer, $3 limit: each room's joined and invited member counts, with up to
/// `limit` members other than the viewer (joined first, then invited, then those who left or
/// were banned, each by user ID) and the display name and avatar of their membership event:
/// one row per hero, or one row without a hero.
struct SummariesOfRooms: BoundStatement {
    static let sql = """
        SELECT x.r, c.joined, c.invited, h.user_id, h.membership, h.name, h.avatar
        FROM unnest($1::text[]) AS x(r)
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE membership = 'join') AS joined, count(*) FILTER (WHERE membership = 'invite') AS invited
            FROM memberships WHERE room_id = x.r) c
        LEFT JOIN LATERAL (
            SELECT m.user_id, m.membership, m.rank, e.json::jsonb #>> '{content,displayname}' AS name,
                   e.json::jsonb #>> '{content,avatar_url}' AS avatar
            FROM (SELECT user_id, membership, event_id,
                         CASE membership WHEN 'join' THEN 0 WHEN 'invite' THEN 1 ELSE 2 END AS rank
                  FROM memberships WHERE room_id = x.r AND user_id <> $2 AND membership IN ('join', 'invite', 'leave', 'ban')
                  ORDER BY rank, user_id LIMIT $3) m
            JOIN events e ON e.event_id = m.event_id) h ON TRUE
        ORDER BY x.r, h.rank, h.user_id
        """
    let bindings: PostgresBindings
    init(rooms: [String], viewer: String, heroLimit: Int) {
        bindings = bind { $0.append(rooms); $0.append(viewer); $0.append(Int64(heroLimit)) }
    }
    func decodeRow(_ row: PostgresRow) throws -> (String, Int64, Int64, HeroRow?) {
        let (r, j, i, u, m, name, avatar) = try row.decode((String, Int64, Int64, String?, String?, String?, String?).self)
        guard let u, let m else { return (r, j, i, nil) }
        return (r, j, i, HeroRow(userID: u, membership: m, displayName: name, avatarURL: avatar))
    }
}

/// $1 rooms, $2 since, $3 up to: the receipts set in the rooms between the two positions.
struct ReceiptsBetween: BoundStatement {
    static let sql = """
        SELECT room_id, receipt_type, user_id, thread_id, event_id, ts FROM receipts
        WHERE room_id = ANY($1) AND stream_pos > $2 AND stream_pos <= $3
        """
    let bindings: PostgresBindings
    init(rooms: [String], since: Int64, upTo: Int64) { bindings = bind { $0.append(rooms); $0.append(since); $0.append(upTo) } }
    func decodeRow(_ row: PostgresRow) throws -> UserDataStore.Receipt {
        let (r, t, u, th, e, ts) = try row.decode((String, String, String, String, String, Int64).self)
        return UserDataStore.Receipt(roomID: r, type: t, userID: u, threadID: th, eventID: e, ts: ts)
    }
}

/// $1 user, $2 since, $3 up to: the user's account data (room, type, content) changed between
/// the two positions.
struct AccountDataBetween: BoundStatement {
    static let sql = "SELECT room_id, type, content FROM account_data WHERE user_id = $1 AND stream_pos > $2 AND stream_pos <= $3"
    let bindings: PostgresBindings
    init(userID: String, since: Int64, upTo: Int64) { bindings = bind { $0.append(userID); $0.append(since); $0.append(upTo) } }
    func decodeRow(_ row: PostgresRow) throws -> (String, String, String) { try row.decode((String, String, String).self) }
}
