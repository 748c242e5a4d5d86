import PostgresNIO

extension UserDataStore {
    /// Notification and highlight counts over every thread, per room: notifications after
    /// the user's main read receipt and after the receipt of their own thread.
    public func unreadTotals(userID: String, rooms: [String]) async throws -> [String: (Int64, Int64)] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: (Int64, Int64)] = [:]
        for try await (r, n, h) in try await db.query("""
            WITH reads AS (
                SELECT r.room_id, r.thread_id, MAX(e.stream_pos) AS pos FROM receipts r JOIN events e ON e.event_id = r.event_id
                WHERE r.room_id = ANY(\(rooms)) AND r.user_id = \(userID) AND r.receipt_type IN ('m.read', 'm.read.private')
                GROUP BY r.room_id, r.thread_id)
            SELECT a.room_id, count(*), count(*) FILTER (WHERE a.highlight)
            FROM event_push_actions a
            LEFT JOIN reads m ON m.room_id = a.room_id AND m.thread_id = ''
            LEFT JOIN reads t ON t.room_id = a.room_id AND t.thread_id = a.thread_id
            WHERE a.user_id = \(userID) AND a.room_id = ANY(\(rooms))
              AND a.stream_pos > COALESCE(m.pos, 0) AND a.stream_pos > COALESCE(t.pos, 0)
            GROUP BY a.room_id
            """).decode((String, Int64, Int64).self) {
            out[r] = (n, h)
        }
        return out
    }
}
