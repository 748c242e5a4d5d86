import Logging
import MatrixCore
import PostgresNIO

public struct MembershipRow: Sendable {
    public let roomID: String
    public let userID: String
    public let membership: String
    public let eventID: String
    public let sender: String
    public let streamPos: Int64
}

/// Memberships, aliases and the room directory.
public struct RoomsStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    static func decode(_ rows: PostgresRowSequence) async throws -> [MembershipRow] {
        var out: [MembershipRow] = []
        for try await (r, u, m, e, s, p) in rows.decode((String, String, String, String, String, Int64).self) {
            out.append(MembershipRow(roomID: r, userID: u, membership: m, eventID: e, sender: s, streamPos: p))
        }
        return out
    }

    /// The user's current membership in every room they have not forgotten.
    public func memberships(of userID: String) async throws -> [MembershipRow] {
        var out: [MembershipRow] = []
        for try await m in try await db.client.execute(UserMemberships(userID: userID), logger: db.logger) { out.append(m) }
        return out
    }

    /// The stream head, the user's memberships, and the latest event position at that head of
    /// each joined room, read together so all describe one moment.
    public func roomList(of userID: String) async throws -> (head: Int64, memberships: [MembershipRow], activity: [String: Int64]) {
        guard let r = try await db.client.all(HeadMembershipsAndActivity(userID: userID), logger: db.logger).first else {
            throw StorageError.unexpected("no stream head")
        }
        return (r.head, r.memberships, r.activity)
    }

    public func membership(_ roomID: String, _ userID: String) async throws -> MembershipRow? {
        try await Self.decode(db.query("""
            SELECT room_id, user_id, membership, event_id, sender, stream_pos FROM memberships
            WHERE room_id = \(roomID) AND user_id = \(userID)
            """)).first
    }

    public func joinedRooms(_ userID: String) async throws -> [String] {
        var out: [String] = []
        for try await r in try await db.query("SELECT room_id FROM memberships WHERE user_id = \(userID) AND membership = 'join'").decode(String.self) {
            out.append(r)
        }
        return out
    }

    public func members(_ roomID: String) async throws -> [MembershipRow] {
        try await Self.decode(db.query("""
            SELECT room_id, user_id, membership, event_id, sender, stream_pos FROM memberships WHERE room_id = \(roomID)
            """))
    }

    public func joinedMembers(_ roomID: String) async throws -> [String] {
        var out: [String] = []
        for try await u in try await db.query("SELECT user_id FROM memberships WHERE room_id = \(roomID) AND membership = 'join'").decode(String.self) {
            out.append(u)
        }
        return out
    }

    public func forget(_ roomID: String, _ userID: String) async throws {
        try await db.query("UPDATE memberships SET forgotten = TRUE WHERE room_id = \(roomID) AND user_id = \(userID) AND membership IN ('leave', 'ban')")
    }

    /// Do two users share a joined room?
    public func shareRoom(_ a: String, _ b: String) async throws -> Bool {
        let rows = try await db.rows("""
            SELECT 1 FROM memberships x JOIN memberships y ON x.room_id = y.room_id
            WHERE x.user_id = \(a) AND y.user_id = \(b) AND x.membership = 'join' AND y.membership = 'join' LIMIT 1
            """)
        return !rows.isEmpty
    }

    /// Rooms whose membership of `userID` changed after `since`.
    public func membershipChanges(of userID: String, since: Int64, upTo: Int64) async throws -> [MembershipRow] {
        try await Self.decode(db.query("""
            SELECT room_id, user_id, membership, event_id, sender, stream_pos FROM memberships
            WHERE user_id = \(userID) AND stream_pos > \(since) AND stream_pos <= \(upTo) AND NOT forgotten
            """))
    }

    // MARK: aliases

    public func createAlias(_ alias: String, roomID: String, creator: String) async throws -> Bool {
        let rows = try await db.rows("INSERT INTO room_aliases (alias, room_id, creator) VALUES (\(alias), \(roomID), \(creator)) ON CONFLICT DO NOTHING RETURNING alias")
        return !rows.isEmpty
    }

    public func resolveAlias(_ alias: String) async throws -> (roomID: String, creator: String)? {
        for try await (r, c) in try await db.query("SELECT room_id, creator FROM room_aliases WHERE alias = \(alias)").decode((String, String).self) {
            return (r, c)
        }
        return nil
    }

    public func deleteAlias(_ alias: String) async throws {
        try await db.query("DELETE FROM room_aliases WHERE alias = \(alias)")
    }

    public func aliases(_ roomID: String) async throws -> [String] {
        var out: [String] = []
        for try await a in try await db.query("SELECT alias FROM room_aliases WHERE room_id = \(roomID) ORDER BY alias").decode(String.self) { out.append(a) }
        return out
    }

    // MARK: directory

    public func setPublic(_ roomID: String, _ isPublic: Bool) async throws -> Bool {
        !(try await db.rows("UPDATE rooms SET is_public = \(isPublic) WHERE room_id = \(roomID) RETURNING room_id")).isEmpty
    }

    public func isPublic(_ roomID: String) async throws -> Bool? {
        for try await p in try await db.query("SELECT is_public FROM rooms WHERE room_id = \(roomID)").decode(Bool.self) { return p }
        return nil
    }

    /// Published rooms with their joined member counts, largest first.
    public func publicRooms() async throws -> [(roomID: String, joined: Int64)] {
        var out: [(String, Int64)] = []
        for try await (r, n) in try await db.query("""
            SELECT r.room_id, (SELECT count(*) FROM memberships m WHERE m.room_id = r.room_id AND m.membership = 'join')
            FROM rooms r WHERE r.is_public ORDER BY 2 DESC, r.room_id
            """).decode((String, Int64).self) {
            out.append((r, n))
        }
        return out
    }

    /// Users matching a search term who share a room with `userID` or are in a public room.
    public func searchUsers(_ term: String, for userID: String, limit: Int) async throws -> [(String, String?, String?)] {
        let like = "%" + term.lowercased().replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        var out: [(String, String?, String?)] = []
        for try await row in try await db.query("""
            SELECT u.user_id, u.displayname, u.avatar_url FROM users u
            WHERE NOT u.deactivated AND (lower(u.user_id) LIKE \(like) OR lower(COALESCE(u.displayname, '')) LIKE \(like))
              AND (u.user_id = \(userID) OR EXISTS (
                    SELECT 1 FROM memberships a JOIN memberships b ON a.room_id = b.room_id
                    WHERE a.user_id = u.user_id AND a.membership = 'join' AND b.user_id = \(userID) AND b.membership = 'join')
                OR EXISTS (SELECT 1 FROM memberships a JOIN rooms r ON r.room_id = a.room_id
                    WHERE a.user_id = u.user_id AND a.membership = 'join' AND r.is_public))
            ORDER BY u.user_id LIMIT \(limit)
            """).decode((String, String?, String?).self) {
            out.append(row)
        }
        return out
    }
}
