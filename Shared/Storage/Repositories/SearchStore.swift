import PostgresNIO

/// Full-text search over the events of a set of rooms (see `myelin_search_text`).
public struct SearchStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    public struct Hit: Sendable {
        public let eventID: String
        public let roomID: String
        public let rank: Double
    }

    /// One page of hits, best rank or newest first, and the total number of hits.
    public func search(term: String, rooms: [String], types: [String], byRank: Bool, offset: Int, limit: Int) async throws -> ([Hit], Int64) {
        guard !rooms.isEmpty, !types.isEmpty else { return ([], 0) }
        let order = byRank ? "rank DESC, e.stream_pos DESC" : "e.stream_pos DESC"
        var hits: [Hit] = []
        for try await (id, room, rank) in try await db.query("""
            SELECT e.event_id, e.room_id, ts_rank(myelin_search_text(e.type, e.json), q)::float8 AS rank
            FROM events e CROSS JOIN plainto_tsquery('simple', \(term)) AS q
            WHERE e.type IN ('m.room.message', 'm.room.name', 'm.room.topic') AND e.type = ANY(\(types))
              AND e.room_id = ANY(\(rooms)) AND e.placement = 0 AND myelin_search_text(e.type, e.json) @@ q
              AND NOT EXISTS (SELECT 1 FROM redactions r WHERE r.redacts = e.event_id)
            ORDER BY \(unescaped: order) OFFSET \(offset) LIMIT \(limit)
            """).decode((String, String, Double).self) {
            hits.append(Hit(eventID: id, roomID: room, rank: rank))
        }
        var count: Int64 = 0
        for try await n in try await db.query("""
            SELECT count(*) FROM events e CROSS JOIN plainto_tsquery('simple', \(term)) AS q
            WHERE e.type IN ('m.room.message', 'm.room.name', 'm.room.topic') AND e.type = ANY(\(types))
              AND e.room_id = ANY(\(rooms)) AND e.placement = 0 AND myelin_search_text(e.type, e.json) @@ q
              AND NOT EXISTS (SELECT 1 FROM redactions r WHERE r.redacts = e.event_id)
            """).decode(Int64.self) { count = n }
        return (hits, count)
    }
}
