import Foundation
import Logging
import PostgresNIO

/// A position of a sliding sync connection that a request may continue from.
public struct SlidingSyncPosition: Sendable {
    public let connKey: Int64
    public let seq: Int64
    /// List counts sent with this position (JSON).
    public let listCounts: String
    public init(connKey: Int64, seq: Int64, listCounts: String) {
        self.connKey = connKey
        self.seq = seq
        self.listCounts = listCounts
    }
}

/// What a connection has been sent of one room.
public struct SlidingSyncRoomRecord: Sendable {
    public let roomID: String
    public let sentUpTo: Int64
    public let config: String
    /// Users whose membership the client got as a timeline sender.
    public let lazyMembers: Set<String>
    public init(roomID: String, sentUpTo: Int64, config: String, lazyMembers: Set<String>) {
        self.roomID = roomID
        self.sentUpTo = sentUpTo
        self.config = config
        self.lazyMembers = lazyMembers
    }
}

/// Per-connection sliding sync state, kept in Postgres so any process can serve the next
/// request of a connection. Positions form a tree: each response is a child of the position
/// its request came with, so a retried or re-sent request (same pos) builds on the same
/// state, and a request that lingers after its client gave up cannot disturb the others.
public struct SlidingSyncStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }
    var log: Logger { db.logger }

    /// Starts a connection afresh: a new key, so positions of the one it replaces become unknown.
    /// Its first position (seq 0) records `rooms` and `listCounts`: the first response is
    /// built before the connection is stored, and both are written in one transaction.
    public func open(userID: String, deviceID: String, connID: String, rooms: [SlidingSyncRoomRecord] = [],
                     listCounts: String = "{}") async throws -> SlidingSyncPosition {
        try await db.transaction { conn in
            let old = try await conn.rows("""
                DELETE FROM sliding_sync_connections WHERE user_id = \(userID) AND device_id = \(deviceID) AND conn_id = \(connID)
                RETURNING conn_key
                """, logger: log).map { try $0.decode(Int64.self) }
            if !old.isEmpty {
                try await conn.query("DELETE FROM sliding_sync_rooms WHERE conn_key = ANY(\(old))", logger: log)
                try await conn.query("DELETE FROM sliding_sync_positions WHERE conn_key = ANY(\(old))", logger: log)
            }
            let rows = try await conn.rows("""
                INSERT INTO sliding_sync_connections (user_id, device_id, conn_id, last_used_ts)
                VALUES (\(userID), \(deviceID), \(connID), \(nowMillis())) RETURNING conn_key
                """, logger: log)
            let key = try rows[0].decode(Int64.self)
            try await conn.query("INSERT INTO sliding_sync_positions (conn_key, seq, list_counts) VALUES (\(key), 0, \(listCounts))",
                                 logger: log)
            try await insertRooms(rooms, connKey: key, seq: 0, conn: conn)
            return SlidingSyncPosition(connKey: key, seq: 0, listCounts: listCounts)
        }
    }

    /// The position a request continues from, or nil when it is not (or no longer) valid.
    /// The client has processed it, so everything not built on it is dropped, and its
    /// ancestors are folded into it.
    public func resume(userID: String, deviceID: String, connID: String, connKey: Int64, seq: Int64,
                       expiryMs: Int64) async throws -> SlidingSyncPosition? {
        try await db.transaction { conn in
            let now = nowMillis()
            let live = try await conn.rows("""
                UPDATE sliding_sync_connections SET last_used_ts = \(now)
                WHERE user_id = \(userID) AND device_id = \(deviceID) AND conn_id = \(connID) AND conn_key = \(connKey)
                  AND last_used_ts > \(now - expiryMs)
                RETURNING conn_key
                """, logger: log)
            guard !live.isEmpty else { return nil }
            let pos = try await conn.rows("""
                SELECT parent_seq, list_counts FROM sliding_sync_positions WHERE conn_key = \(connKey) AND seq = \(seq)
                """, logger: log)
            guard let row = pos.first else { return nil }
            let (parent, counts) = try row.decode((Int64?, String).self)
            try await conn.query("""
                DELETE FROM sliding_sync_positions WHERE conn_key = \(connKey) AND seq <> \(seq) AND parent_seq IS DISTINCT FROM \(seq)::int8
                """, logger: log)
            try await conn.query("""
                DELETE FROM sliding_sync_rooms WHERE conn_key = \(connKey) AND seq <> \(seq) AND seq IS DISTINCT FROM \(parent)::int8
                  AND seq NOT IN (SELECT p.seq FROM sliding_sync_positions p WHERE p.conn_key = \(connKey))
                """, logger: log)
            if let parent {
                try await conn.query("""
                    DELETE FROM sliding_sync_rooms o WHERE o.conn_key = \(connKey) AND o.seq = \(parent) AND EXISTS (
                        SELECT 1 FROM sliding_sync_rooms n WHERE n.conn_key = o.conn_key AND n.room_id = o.room_id AND n.seq = \(seq))
                    """, logger: log)
                try await conn.query("UPDATE sliding_sync_rooms SET seq = \(seq) WHERE conn_key = \(connKey) AND seq = \(parent)", logger: log)
                try await conn.query("UPDATE sliding_sync_positions SET parent_seq = NULL WHERE conn_key = \(connKey) AND seq = \(seq)", logger: log)
            }
            return SlidingSyncPosition(connKey: connKey, seq: seq, listCounts: counts)
        }
    }

    /// What had been sent of each room as of a position: its own rows over its parent's.
    public func rooms(connKey: Int64, asOf seq: Int64) async throws -> [String: SlidingSyncRoomRecord] {
        var out: [String: SlidingSyncRoomRecord] = [:]
        for try await (r, u, c, l) in try await db.query("""
            SELECT DISTINCT ON (room_id) room_id, sent_upto, config, lazy_members FROM sliding_sync_rooms
            WHERE conn_key = \(connKey) AND (seq = \(seq) OR seq = (
                SELECT parent_seq FROM sliding_sync_positions WHERE conn_key = \(connKey) AND seq = \(seq)))
            ORDER BY room_id, seq = \(seq) DESC
            """).decode((String, Int64, String, String).self) {
            let lazy = (try? JSONDecoder().decode([String].self, from: Data(l.utf8))) ?? []
            out[r] = SlidingSyncRoomRecord(roomID: r, sentUpTo: u, config: c, lazyMembers: Set(lazy))
        }
        return out
    }

    /// Records a response built on position `parent`. Returns the new position's seq, or nil
    /// when `parent` is gone (a newer request of the connection superseded this one).
    public func commit(connKey: Int64, parent: Int64, rooms: [SlidingSyncRoomRecord], listCounts: String) async throws -> Int64? {
        try await db.transaction { conn in
            let last = try await conn.rows("""
                SELECT last_seq FROM sliding_sync_connections WHERE conn_key = \(connKey) FOR UPDATE
                """, logger: log).map { try $0.decode(Int64.self) }
            guard let seq = last.first else { return nil }
            let parentLive = try await conn.rows("""
                SELECT 1 FROM sliding_sync_positions WHERE conn_key = \(connKey) AND seq = \(parent)
                """, logger: log)
            guard !parentLive.isEmpty else { return nil }
            let next = seq + 1
            try await conn.query("UPDATE sliding_sync_connections SET last_seq = \(next) WHERE conn_key = \(connKey)", logger: log)
            try await conn.query("""
                INSERT INTO sliding_sync_positions (conn_key, seq, parent_seq, list_counts) VALUES (\(connKey), \(next), \(parent), \(listCounts))
                """, logger: log)
            try await insertRooms(rooms, connKey: connKey, seq: next, conn: conn)
            return next
        }
    }

    private func insertRooms(_ rooms: [SlidingSyncRoomRecord], connKey: Int64, seq: Int64, conn: PostgresConnection) async throws {
        guard !rooms.isEmpty else { return }
        let lazy = try rooms.map { String(decoding: try JSONEncoder().encode($0.lazyMembers.sorted()), as: UTF8.self) }
        try await conn.query("""
            INSERT INTO sliding_sync_rooms (conn_key, room_id, seq, sent_upto, config, lazy_members)
            SELECT \(connKey), r, \(seq), u, c, l FROM unnest(\(rooms.map(\.roomID))::text[], \(rooms.map(\.sentUpTo))::int8[],
                \(rooms.map(\.config))::text[], \(lazy)::text[]) AS x(r, u, c, l)
            """, logger: log)
    }
}
