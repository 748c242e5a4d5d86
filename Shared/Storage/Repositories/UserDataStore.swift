import Logging
import MatrixCore
import PostgresNIO

/// Account data, receipts, typing, filters and to-device messages: the per-user and
/// ephemeral streams. Each write takes a stream position.
public struct UserDataStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }
    var log: Logger { db.logger }

    // MARK: account data ('' room = global)

    public func setAccountData(_ userID: String, roomID: String, type: String, content: String) async throws -> Int64 {
        try await db.writeAtNewPosition { conn, pos in
            try await conn.query("""
                INSERT INTO account_data (user_id, room_id, type, content, stream_pos) VALUES (\(userID), \(roomID), \(type), \(content), \(pos))
                ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = EXCLUDED.content, stream_pos = EXCLUDED.stream_pos
                """, logger: log)
        }
    }

    public func accountData(_ userID: String, roomID: String, type: String) async throws -> String? {
        let statement = AccountDataContent(userID: userID, roomID: roomID, type: type)
        for try await c in try await db.client.execute(statement, logger: db.logger) {
            return c
        }
        return nil
    }

    /// The contents of those of `types` the user has set, by type: one query for several.
    public func accountData(_ userID: String, roomID: String, types: [String]) async throws -> [String: String] {
        var out: [String: String] = [:]
        for (t, c) in try await db.client.all(AccountDataContents(userID: userID, roomID: roomID, types: types), logger: db.logger) {
            out[t] = c
        }
        return out
    }

    /// (room, type, content) changed after `since`.
    public func accountDataChanges(_ userID: String, since: Int64, upTo: Int64) async throws -> [(String, String, String)] {
        try await db.client.all(AccountDataBetween(userID: userID, since: since, upTo: upTo), logger: db.logger)
    }

    // MARK: receipts

    public func setReceipt(roomID: String, type: String, userID: String, threadID: String, eventID: String) async throws -> Int64 {
        try await db.writeAtNewPosition { conn, pos in
            try await conn.query("""
                INSERT INTO receipts (room_id, receipt_type, user_id, thread_id, event_id, ts, stream_pos)
                VALUES (\(roomID), \(type), \(userID), \(threadID), \(eventID), \(nowMillis()), \(pos))
                ON CONFLICT (room_id, receipt_type, user_id, thread_id) DO UPDATE
                    SET event_id = EXCLUDED.event_id, ts = EXCLUDED.ts, stream_pos = EXCLUDED.stream_pos
                """, logger: log)
        }
    }

    public struct Receipt: Sendable {
        public let roomID: String, type: String, userID: String, threadID: String, eventID: String, ts: Int64
    }

    public func receipts(rooms: [String], since: Int64, upTo: Int64) async throws -> [Receipt] {
        guard !rooms.isEmpty else { return [] }
        return try await db.client.all(ReceiptsBetween(rooms: rooms, since: since, upTo: upTo), logger: db.logger)
    }

    /// Position of the event a user's latest public or private read receipt points at, per thread.
    public func readUpTo(userID: String, roomID: String) async throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        for try await (th, p) in try await db.query("""
            SELECT r.thread_id, MAX(e.stream_pos) FROM receipts r JOIN events e ON e.event_id = r.event_id
            WHERE r.room_id = \(roomID) AND r.user_id = \(userID) AND r.receipt_type IN ('m.read', 'm.read.private')
            GROUP BY r.thread_id
            """).decode((String, Int64).self) {
            out[th] = p
        }
        return out
    }

    // MARK: typing

    public func setTyping(roomID: String, userID: String, timeoutMs: Int64?) async throws -> Int64 {
        let expires = timeoutMs.map { nowMillis() + $0 } ?? 0
        return try await db.writeAtNewPosition { conn, pos in
            try await conn.query("""
                INSERT INTO typing (room_id, user_id, expires_ts, stream_pos) VALUES (\(roomID), \(userID), \(expires), \(pos))
                ON CONFLICT (room_id, user_id) DO UPDATE SET expires_ts = EXCLUDED.expires_ts, stream_pos = EXCLUDED.stream_pos
                """, logger: log)
        }
    }

    /// Rooms whose typing set changed after `since`, with who types there now.
    public func typingChanges(rooms: [String], since: Int64, upTo: Int64) async throws -> [String: [String]] {
        guard !rooms.isEmpty else { return [:] }
        var changed = Set<String>()
        for try await r in try await db.query("""
            SELECT DISTINCT room_id FROM typing WHERE room_id = ANY(\(rooms)) AND stream_pos > \(since) AND stream_pos <= \(upTo)
            """).decode(String.self) { changed.insert(r) }
        guard !changed.isEmpty else { return [:] }
        var out: [String: [String]] = [:]
        for r in changed { out[r] = [] }
        let now = nowMillis()
        for try await (r, u) in try await db.query("""
            SELECT room_id, user_id FROM typing WHERE room_id = ANY(\(Array(changed))) AND expires_ts > \(now) ORDER BY user_id
            """).decode((String, String).self) {
            out[r, default: []].append(u)
        }
        return out
    }

    // MARK: filters

    public func createFilter(_ userID: String, json: String) async throws -> Int64 {
        for try await id in try await db.query("INSERT INTO filters (user_id, filter_json) VALUES (\(userID), \(json)) RETURNING filter_id").decode(Int64.self) {
            return id
        }
        throw StorageError.invalidConfiguration("filter insert returned nothing")
    }

    public func filter(_ userID: String, id: Int64) async throws -> String? {
        for try await j in try await db.query("SELECT filter_json FROM filters WHERE user_id = \(userID) AND filter_id = \(id)").decode(String.self) { return j }
        return nil
    }

    // MARK: to-device

    public func toDevice(_ userID: String, _ deviceID: String, since: Int64, upTo: Int64, limit: Int) async throws -> [(Int64, String, String, String)] {
        var out: [(Int64, String, String, String)] = []
        for try await row in try await db.query("""
            SELECT stream_pos, sender, type, content FROM to_device WHERE user_id = \(userID) AND device_id = \(deviceID)
              AND stream_pos > \(since) AND stream_pos <= \(upTo) ORDER BY stream_pos LIMIT \(limit)
            """).decode((Int64, String, String, String).self) {
            out.append(row)
        }
        return out
    }

    /// Deletes messages the device has acknowledged by syncing past them.
    public func ackToDevice(_ userID: String, _ deviceID: String, upTo: Int64) async throws {
        try await db.query("DELETE FROM to_device WHERE user_id = \(userID) AND device_id = \(deviceID) AND stream_pos <= \(upTo)")
    }

    public func deviceListChanges(since: Int64, upTo: Int64) async throws -> [String] {
        var out: [String] = []
        for try await u in try await db.query("""
            SELECT DISTINCT user_id FROM device_list_changes WHERE stream_pos > \(since) AND stream_pos <= \(upTo)
            """).decode(String.self) { out.append(u) }
        return out
    }

    public func oneTimeKeyCounts(_ userID: String, _ deviceID: String) async throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        for try await (a, n) in try await db.query("""
            SELECT algorithm, count(*) FROM one_time_keys WHERE user_id = \(userID) AND device_id = \(deviceID) GROUP BY algorithm
            """).decode((String, Int64).self) { out[a] = n }
        return out
    }
}
