import MatrixCore
import PostgresNIO

/// One published room as the room directory lists it.
public struct PublicRoomEntry: Sendable, Hashable {
    public let roomID: String
    public let joinedMembers: Int64
    public let name: String?
    public let topic: String?
    public let canonicalAlias: String?
    public let avatarURL: String?
    public let joinRule: String?
    public let historyVisibility: String?
    public let guestAccess: String?
    public let roomType: String?

    public init(roomID: String, joinedMembers: Int64, name: String?, topic: String?, canonicalAlias: String?,
                avatarURL: String?, joinRule: String?, historyVisibility: String?, guestAccess: String?, roomType: String?) {
        self.roomID = roomID
        self.joinedMembers = joinedMembers
        self.name = name
        self.topic = topic
        self.canonicalAlias = canonicalAlias
        self.avatarURL = avatarURL
        self.joinRule = joinRule
        self.historyVisibility = historyVisibility
        self.guestAccess = guestAccess
        self.roomType = roomType
    }
}

/// A position in the directory's order (most joined members first, then room ID byte-wise), and
/// which side of it a page lies on.
public struct PublicRoomsCursor: Sendable, Hashable {
    public let joinedMembers: Int64
    public let roomID: String
    public let forward: Bool
    public init(joinedMembers: Int64, roomID: String, forward: Bool) {
        self.joinedMembers = joinedMembers
        self.roomID = roomID
        self.forward = forward
    }
}

/// What to list: an optional search term and room types (`nil` inside the types matches
/// rooms without a type), a page size (nil: everything) and where to start.
public struct PublicRoomsQuery: Sendable {
    public var searchTerm: String?
    public var roomTypes: [String?]?
    public var limit: Int?
    public var cursor: PublicRoomsCursor?
    public init(searchTerm: String? = nil, roomTypes: [String?]? = nil, limit: Int? = nil, cursor: PublicRoomsCursor? = nil) {
        self.searchTerm = searchTerm
        self.roomTypes = roomTypes
        self.limit = limit
        self.cursor = cursor
    }
}

/// One page in directory order; `more` says rooms lie beyond it in the paging direction.
public struct PublicRoomsPage: Sendable {
    public let rooms: [PublicRoomEntry]
    public let total: Int64
    public let more: Bool
}

/// A user as the user directory shows them.
public struct DirectoryUser: Sendable, Hashable {
    public let userID: String
    public let displayname: String?
    public let avatarURL: String?
}

/// The published room directory, the user directory, alias moves and content reports.
public struct DirectoryStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    /// `term` for a LIKE pattern: lower-cased, with the pattern's own wildcards escaped.
    static func likeEscaped(_ term: String) -> String {
        term.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    // MARK: published rooms

    /// A page of published rooms matching the query, with the number of all matches.
    public func publicRooms(_ q: PublicRoomsQuery) async throws -> PublicRoomsPage {
        let term = q.searchTerm?.trimmingCharacters(in: .whitespaces) ?? ""
        let pattern = "%" + Self.likeEscaped(term) + "%"
        let types = q.roomTypes?.compactMap { $0 } ?? []
        let filterTypes = q.roomTypes != nil
        let untyped = q.roomTypes?.contains { $0 == nil } ?? false
        // 0: from the start; 1: after the cursor; 2: before it (read backwards, then reversed).
        let mode = q.cursor.map { $0.forward ? 1 : 2 } ?? 0
        let cj = q.cursor?.joinedMembers ?? 0
        let cr = q.cursor?.roomID ?? ""
        let order = mode == 2 ? "joined ASC, room_id COLLATE \"C\" DESC" : "joined DESC, room_id COLLATE \"C\" ASC"
        let outerOrder = mode == 2 ? "p.joined ASC, p.room_id COLLATE \"C\" DESC" : "p.joined DESC, p.room_id COLLATE \"C\" ASC"
        // One extra row tells whether another page follows.
        let fetch: Int? = q.limit.map { $0 + 1 }
        let rows = try await db.query("""
            WITH published AS (
                SELECT r.room_id,
                    (SELECT count(*) FROM memberships m WHERE m.room_id = r.room_id AND m.membership = 'join') AS joined,
                    s.name, s.topic, s.alias, s.avatar, s.join_rule, s.history_visibility, s.guest_access, s.room_type
                FROM rooms r CROSS JOIN LATERAL (
                    SELECT
                        max(CASE WHEN x.type = 'm.room.name' AND NOT x.redacted AND json_typeof(x.c->'name') = 'string' THEN x.c->>'name' END) AS name,
                        max(CASE WHEN x.type = 'm.room.topic' AND NOT x.redacted AND json_typeof(x.c->'topic') = 'string' THEN x.c->>'topic' END) AS topic,
                        max(CASE WHEN x.type = 'm.room.canonical_alias' AND NOT x.redacted AND json_typeof(x.c->'alias') = 'string' THEN x.c->>'alias' END) AS alias,
                        max(CASE WHEN x.type = 'm.room.avatar' AND NOT x.redacted AND json_typeof(x.c->'url') = 'string' THEN x.c->>'url' END) AS avatar,
                        max(CASE WHEN x.type = 'm.room.join_rules' AND json_typeof(x.c->'join_rule') = 'string' THEN x.c->>'join_rule' END) AS join_rule,
                        max(CASE WHEN x.type = 'm.room.history_visibility' AND json_typeof(x.c->'history_visibility') = 'string' THEN x.c->>'history_visibility' END) AS history_visibility,
                        max(CASE WHEN x.type = 'm.room.guest_access' AND NOT x.redacted AND json_typeof(x.c->'guest_access') = 'string' THEN x.c->>'guest_access' END) AS guest_access,
                        max(CASE WHEN x.type = 'm.room.create' AND json_typeof(x.c->'type') = 'string' THEN x.c->>'type' END) AS room_type
                    FROM (
                        SELECT cs.type, (e.json::json)->'content' AS c,
                            EXISTS (SELECT 1 FROM redactions rd WHERE rd.redacts = cs.event_id) AS redacted
                        FROM current_state cs JOIN events e ON e.event_id = cs.event_id
                        WHERE cs.room_id = r.room_id AND cs.state_key = ''
                          AND cs.type IN ('m.room.name', 'm.room.topic', 'm.room.canonical_alias', 'm.room.avatar',
                                          'm.room.join_rules', 'm.room.history_visibility', 'm.room.guest_access', 'm.room.create')
                    ) x
                ) s
                WHERE r.is_public
            ), matching AS (
                SELECT * FROM published
                WHERE (\(term) = '' OR lower(COALESCE(name, '')) LIKE \(pattern) OR lower(COALESCE(topic, '')) LIKE \(pattern)
                       OR lower(COALESCE(alias, '')) LIKE \(pattern) OR lower(room_id) LIKE \(pattern))
                  AND (NOT \(filterTypes) OR room_type = ANY(\(types)) OR (\(untyped) AND room_type IS NULL))
            )
            SELECT t.total, p.room_id, p.joined, p.name, p.topic, p.alias, p.avatar, p.join_rule,
                   p.history_visibility, p.guest_access, p.room_type
            FROM (SELECT count(*) AS total FROM matching) t
            LEFT JOIN LATERAL (
                SELECT * FROM matching
                WHERE \(mode) = 0
                   OR (\(mode) = 1 AND (joined < \(cj) OR (joined = \(cj) AND room_id COLLATE "C" > \(cr))))
                   OR (\(mode) = 2 AND (joined > \(cj) OR (joined = \(cj) AND room_id COLLATE "C" < \(cr))))
                ORDER BY \(unescaped: order) LIMIT \(fetch)
            ) p ON TRUE
            ORDER BY \(unescaped: outerOrder)
            """)
        var total: Int64 = 0
        var rooms: [PublicRoomEntry] = []
        typealias Row = (Int64, String?, Int64?, String?, String?, String?, String?, String?, String?, String?, String?)
        for try await r in rows.decode(Row.self) {
            total = r.0
            guard let roomID = r.1 else { continue }
            rooms.append(PublicRoomEntry(roomID: roomID, joinedMembers: r.2 ?? 0, name: r.3, topic: r.4, canonicalAlias: r.5,
                                         avatarURL: r.6, joinRule: r.7, historyVisibility: r.8, guestAccess: r.9, roomType: r.10))
        }
        var more = false
        if let limit = q.limit, rooms.count > limit {
            more = true
            rooms.removeLast(rooms.count - limit)
        }
        if mode == 2 { rooms.reverse() }
        return PublicRoomsPage(rooms: rooms, total: total, more: more)
    }

    // MARK: user directory

    /// Local users whose ID or display name contains `term` and whom `searcher` may find:
    /// those sharing a joined room with them, or joined to a public or world-readable room.
    /// Exact and prefix matches come first, then people the searcher shares a room with.
    /// Returns at most `limit` users and whether more matched.
    public func searchUsers(_ term: String, searcher: String, limit: Int) async throws -> (users: [DirectoryUser], limited: Bool) {
        let t = term.trimmingCharacters(in: .whitespaces).lowercased()
        let escaped = Self.likeEscaped(t)
        let contains = "%" + escaped + "%"
        let prefix = escaped + "%"
        let localpartPrefix = "@" + escaped + "%"
        let exactLocalpart = "@" + escaped + ":%"
        var out: [DirectoryUser] = []
        for try await (u, d, a) in try await db.query("""
            SELECT c.user_id, c.displayname, c.avatar_url FROM (
                SELECT u.user_id, u.displayname, u.avatar_url,
                    EXISTS (
                        SELECT 1 FROM memberships m JOIN memberships me ON me.room_id = m.room_id
                        WHERE m.user_id = u.user_id AND m.membership = 'join'
                          AND me.user_id = \(searcher) AND me.membership = 'join') AS shared,
                    EXISTS (
                        SELECT 1 FROM memberships m
                        JOIN current_state cs ON cs.room_id = m.room_id AND cs.state_key = ''
                             AND cs.type IN ('m.room.join_rules', 'm.room.history_visibility')
                        JOIN events e ON e.event_id = cs.event_id
                        WHERE m.user_id = u.user_id AND m.membership = 'join'
                          AND ((cs.type = 'm.room.join_rules' AND (e.json::json)->'content'->>'join_rule' = 'public')
                            OR (cs.type = 'm.room.history_visibility'
                                AND (e.json::json)->'content'->>'history_visibility' = 'world_readable'))) AS in_public
                FROM users u
                WHERE NOT u.deactivated
                  AND (lower(u.user_id) LIKE \(contains) OR lower(COALESCE(u.displayname, '')) LIKE \(contains))
            ) c
            WHERE c.shared OR c.in_public
            ORDER BY (COALESCE(lower(c.displayname) = \(t), FALSE) OR lower(c.user_id) LIKE \(exactLocalpart)) DESC,
                     (COALESCE(lower(c.displayname) LIKE \(prefix), FALSE) OR lower(c.user_id) LIKE \(localpartPrefix)) DESC,
                     c.shared DESC, c.displayname IS NULL, c.avatar_url IS NULL, c.user_id
            LIMIT \(limit + 1)
            """).decode((String, String?, String?).self) {
            out.append(DirectoryUser(userID: u, displayname: d, avatarURL: a))
        }
        let limited = out.count > limit
        if limited { out.removeLast(out.count - limit) }
        return (out, limited)
    }

    // MARK: aliases and reports

    /// Points every alias of `from` at `to` (a room upgrade); returns the aliases moved.
    public func moveAliases(from: String, to: String) async throws -> [String] {
        var out: [String] = []
        for try await a in try await db.query("UPDATE room_aliases SET room_id = \(to) WHERE room_id = \(from) RETURNING alias")
            .decode(String.self) {
            out.append(a)
        }
        return out.sorted()
    }

    /// Removes an alias only if it still points at `roomID`; false when it did not.
    public func deleteAlias(_ alias: String, roomID: String) async throws -> Bool {
        !(try await db.rows("DELETE FROM room_aliases WHERE alias = \(alias) AND room_id = \(roomID) RETURNING alias")).isEmpty
    }

    public func addReport(userID: String, roomID: String, eventID: String?, reason: String?, score: Int64?) async throws {
        try await db.query("""
            INSERT INTO reports (user_id, room_id, event_id, reason, score, created_ts)
            VALUES (\(userID), \(roomID), \(eventID), \(reason), \(score), \(nowMillis()))
            """)
    }
}
