import PostgresNIO

/// Pushers per user (`/pushers`), read when a notification is to be delivered.
public struct PusherStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    public struct Pusher: Sendable {
        public let userID: String, appID: String, pushkey: String, kind: String
        public let appDisplayName: String, deviceDisplayName: String, profileTag: String?, lang: String
        public let data: String, createdTS: Int64
        public init(userID: String, appID: String, pushkey: String, kind: String, appDisplayName: String,
                    deviceDisplayName: String, profileTag: String?, lang: String, data: String, createdTS: Int64) {
            self.userID = userID; self.appID = appID; self.pushkey = pushkey; self.kind = kind
            self.appDisplayName = appDisplayName; self.deviceDisplayName = deviceDisplayName
            self.profileTag = profileTag; self.lang = lang; self.data = data; self.createdTS = createdTS
        }
    }

    public func pushers(of users: [String]) async throws -> [Pusher] {
        guard !users.isEmpty else { return [] }
        var out: [Pusher] = []
        for try await p in try await db.client.execute(PushersOfUsers(users: users), logger: db.logger) { out.append(p) }
        return out
    }

    /// Adds or replaces a pusher; without `append`, other users' pushers with the same
    /// app ID and pushkey are removed (the device now belongs to this user).
    public func set(_ p: Pusher, append: Bool) async throws {
        try await db.transaction { conn in
            if !append {
                try await conn.query("DELETE FROM pushers WHERE app_id = \(p.appID) AND pushkey = \(p.pushkey) AND user_id <> \(p.userID)", logger: db.logger)
            }
            try await conn.query("""
                INSERT INTO pushers (user_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag, lang, data, created_ts)
                VALUES (\(p.userID), \(p.appID), \(p.pushkey), \(p.kind), \(p.appDisplayName), \(p.deviceDisplayName), \(p.profileTag),
                        \(p.lang), \(p.data), \(p.createdTS))
                ON CONFLICT (app_id, pushkey, user_id) DO UPDATE SET kind = EXCLUDED.kind, app_display_name = EXCLUDED.app_display_name,
                    device_display_name = EXCLUDED.device_display_name, profile_tag = EXCLUDED.profile_tag, lang = EXCLUDED.lang,
                    data = EXCLUDED.data
                """, logger: db.logger)
        }
    }

    public func delete(userID: String, appID: String, pushkey: String) async throws {
        try await db.query("DELETE FROM pushers WHERE user_id = \(userID) AND app_id = \(appID) AND pushkey = \(pushkey)")
    }

    /// A gateway said this pushkey is no longer valid.
    public func reject(appID: String, pushkey: String) async throws {
        try await db.query("DELETE FROM pushers WHERE app_id = \(appID) AND pushkey = \(pushkey)")
    }

    public struct NotificationRow: Sendable {
        public let roomID: String, eventID: String, streamPos: Int64, highlight: Bool, actionsJSON: String
    }

    /// A user's notifications, newest first, before `before`: in each room they are in, what
    /// `myelin_room_notifications` counts (own and shared rows, migration 0017), newest first
    /// per room; in other rooms, their own rows.
    public func notifications(_ userID: String, before: Int64, limit: Int, onlyHighlight: Bool) async throws -> [NotificationRow] {
        var out: [NotificationRow] = []
        for try await (r, e, p, h, a) in try await db.query("""
            SELECT room_id, event_id, stream_pos, highlight, actions_json FROM (
                SELECT a.room_id, a.event_id, a.stream_pos, a.highlight, a.actions_json FROM event_push_actions a
                WHERE a.user_id = \(userID) AND a.stream_pos < \(before) AND (NOT \(onlyHighlight) OR a.highlight)
                  AND NOT EXISTS (SELECT 1 FROM memberships m
                                  WHERE m.room_id = a.room_id AND m.user_id = a.user_id AND m.membership = 'join')
                UNION ALL
                SELECT m.room_id, n.event_id, n.stream_pos, n.highlight, n.actions_json
                FROM memberships m CROSS JOIN LATERAL (
                    SELECT n.event_id, n.stream_pos, n.highlight, n.actions_json
                    FROM myelin_room_notifications(m.user_id, m.room_id) n
                    WHERE n.stream_pos < \(before) AND (NOT \(onlyHighlight) OR n.highlight)
                    ORDER BY n.stream_pos DESC LIMIT \(limit)) n
                WHERE m.user_id = \(userID) AND m.membership = 'join') AS x
            ORDER BY stream_pos DESC LIMIT \(limit)
            """).decode((String, String, Int64, Bool, String).self) {
            out.append(NotificationRow(roomID: r, eventID: e, streamPos: p, highlight: h, actionsJSON: a))
        }
        return out
    }
}
