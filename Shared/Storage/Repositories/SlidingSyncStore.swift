import Foundation
import Logging
import MatrixCore
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
    /// built before the connection is stored, and both are written together.
    /// The user's connections unused for longer than `expiryMs` are dropped on the way.
    public func open(userID: String, deviceID: String, connID: String, rooms: [SlidingSyncRoomRecord] = [],
                     listCounts: String = "{}", expiryMs: Int64 = 30 * 24 * 3600 * 1000) async throws -> SlidingSyncPosition {
        let r = Self.columns(rooms)
        for try await key in try await db.query("""
            SELECT myelin_ss_open(\(userID), \(deviceID), \(connID), \(nowMillis()), \(expiryMs), \(listCounts),
                                  \(r.ids)::text[], \(r.sent)::int8[], \(r.configs)::text[], \(r.lazy)::text[])
            """).decode(Int64.self) {
            return SlidingSyncPosition(connKey: key, seq: 0, listCounts: listCounts)
        }
        throw StorageError.unexpected("myelin_ss_open returned no row")
    }

    /// The position a request continues from, or nil when it is not (or no longer) valid.
    /// The client has processed it, so everything not built on it is dropped, and what it
    /// sent is folded into the connection's base.
    public func resume(userID: String, deviceID: String, connID: String, connKey: Int64, seq: Int64,
                       expiryMs: Int64) async throws -> SlidingSyncPosition? {
        for try await counts in try await db.query("""
            SELECT myelin_ss_resume(\(userID), \(deviceID), \(connID), \(connKey), \(seq), \(nowMillis()), \(expiryMs))
            """).decode(String?.self) {
            return counts.map { SlidingSyncPosition(connKey: connKey, seq: seq, listCounts: $0) }
        }
        return nil
    }

    /// What had been sent of each room as of a position: its own rows over its parent's over
    /// the connection's confirmed base.
    public func rooms(connKey: Int64, asOf seq: Int64) async throws -> [String: SlidingSyncRoomRecord] {
        var out: [String: SlidingSyncRoomRecord] = [:]
        for (r, u, c, l) in try await db.client.all(SentRoomsAsOf(connKey: connKey, seq: seq), logger: db.logger) {
            out[r] = SlidingSyncRoomRecord(roomID: r, sentUpTo: u, config: c, lazyMembers: Self.members(l))
        }
        return out
    }

    /// A stored JSON array of user IDs; most rooms have none.
    static func members(_ text: String) -> Set<String> {
        guard text != "[]", let a = try? JSON.parse(text).arrayValue else { return [] }
        return Set(a.compactMap(\.stringValue))
    }

    /// Records a response built on position `parent`. Returns the new position's seq, or nil
    /// when `parent` is gone (a newer request of the connection superseded this one).
    public func commit(connKey: Int64, parent: Int64, rooms: [SlidingSyncRoomRecord], listCounts: String) async throws -> Int64? {
        let r = Self.columns(rooms)
        for try await seq in try await db.query("""
            SELECT myelin_ss_commit(\(connKey), \(parent), \(listCounts),
                                    \(r.ids)::text[], \(r.sent)::int8[], \(r.configs)::text[], \(r.lazy)::text[])
            """).decode(Int64?.self) {
            return seq
        }
        return nil
    }

    /// Room records as the column arrays the functions take.
    private static func columns(_ rooms: [SlidingSyncRoomRecord]) -> (ids: [String], sent: [Int64], configs: [String], lazy: [String]) {
        let lazy = rooms.map { JSON.array($0.lazyMembers.sorted().map(JSON.string)).canonicalString }
        return (rooms.map(\.roomID), rooms.map(\.sentUpTo), rooms.map(\.config), lazy)
    }
}

/// $1 connection, $2 position: the newest row of each room among the position's, its
/// parent's and the base's (seq -1); seqs only grow, so the newest is the highest.
struct SentRoomsAsOf: BoundStatement {
    static let sql = """
        SELECT DISTINCT ON (room_id) room_id, sent_upto, config, lazy_members FROM sliding_sync_rooms
        WHERE conn_key = $1 AND (seq = $2 OR seq = -1 OR seq = (
            SELECT parent_seq FROM sliding_sync_positions WHERE conn_key = $1 AND seq = $2))
        ORDER BY room_id, seq DESC
        """
    let bindings: PostgresBindings
    init(connKey: Int64, seq: Int64) { bindings = bind { $0.append(connKey); $0.append(seq) } }
    func decodeRow(_ row: PostgresRow) throws -> (String, Int64, String, String) {
        try row.decode((String, Int64, String, String).self)
    }
}
