import PostgresNIO

/// Users' presence, with a stream position per change so /sync can deliver it.
public struct PresenceStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    public struct Presence: Sendable {
        public let userID: String
        public let presence: String
        public let statusMsg: String?
        public let lastActiveTS: Int64
    }

    public func get(_ userID: String) async throws -> Presence? {
        for try await (u, p, m, ts) in try await db.query("""
            SELECT user_id, presence, status_msg, last_active_ts FROM presence WHERE user_id = \(userID)
            """).decode((String, String, String?, Int64).self) {
            return Presence(userID: u, presence: p, statusMsg: m, lastActiveTS: ts)
        }
        return nil
    }

    /// Stores a new presence; `statusMsg` nil keeps the current message.
    public func set(_ userID: String, presence: String, statusMsg: String?, keepStatus: Bool) async throws -> Int64 {
        try await db.writeAtNewPosition { conn, pos in
            try await conn.query("""
                INSERT INTO presence (user_id, presence, status_msg, last_active_ts, stream_pos)
                VALUES (\(userID), \(presence), \(statusMsg), \(nowMillis()), \(pos))
                ON CONFLICT (user_id) DO UPDATE SET presence = EXCLUDED.presence, last_active_ts = EXCLUDED.last_active_ts,
                    stream_pos = EXCLUDED.stream_pos,
                    status_msg = CASE WHEN \(keepStatus) THEN presence.status_msg ELSE EXCLUDED.status_msg END
                """, logger: db.logger)
        }
    }

    /// Stores what another server says of its user's presence, its status message included.
    public func setRemote(_ userID: String, presence: String, statusMsg: String?, lastActiveTS: Int64) async throws -> Int64 {
        try await db.writeAtNewPosition { conn, pos in
            try await conn.query("""
                INSERT INTO presence (user_id, presence, status_msg, last_active_ts, stream_pos)
                VALUES (\(userID), \(presence), \(statusMsg), \(lastActiveTS), \(pos))
                ON CONFLICT (user_id) DO UPDATE SET presence = EXCLUDED.presence, last_active_ts = EXCLUDED.last_active_ts,
                    stream_pos = EXCLUDED.stream_pos, status_msg = EXCLUDED.status_msg
                """, logger: db.logger)
        }
    }

    /// Presence changes after `since` of `userID` and of everyone sharing a joined room with them.
    public func changes(for userID: String, since: Int64, upTo: Int64) async throws -> [Presence] {
        var out: [Presence] = []
        for try await (u, p, m, ts) in try await db.query("""
            SELECT p.user_id, p.presence, p.status_msg, p.last_active_ts FROM presence p
            WHERE p.stream_pos > \(since) AND p.stream_pos <= \(upTo)
              AND (p.user_id = \(userID) OR EXISTS (
                SELECT 1 FROM memberships a JOIN memberships b ON a.room_id = b.room_id
                WHERE a.user_id = p.user_id AND a.membership = 'join' AND b.user_id = \(userID) AND b.membership = 'join'))
            """).decode((String, String, String?, Int64).self) {
            out.append(Presence(userID: u, presence: p, statusMsg: m, lastActiveTS: ts))
        }
        return out
    }
}
