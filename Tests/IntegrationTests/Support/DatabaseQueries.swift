import PostgresNIO
import Storage

/// Short reads for assertions.
extension Database {
    func int64s(_ q: PostgresQuery) async throws -> [Int64] {
        var out: [Int64] = []
        for try await v in try await query(q).decode(Int64.self) { out.append(v) }
        return out
    }

    func int64(_ q: PostgresQuery) async throws -> Int64 {
        guard let v = try await int64s(q).first else { throw TestFailure("query returned no rows") }
        return v
    }

    func strings(_ q: PostgresQuery) async throws -> [String] {
        var out: [String] = []
        for try await v in try await query(q).decode(String.self) { out.append(v) }
        return out
    }

    /// How many rows of a room's data exist anywhere: events, state, memberships, extremities, the room.
    func roomRowCount(_ roomID: String) async throws -> Int64 {
        try await int64("""
            SELECT (SELECT count(*) FROM events WHERE room_id = \(roomID))
                 + (SELECT count(*) FROM current_state WHERE room_id = \(roomID))
                 + (SELECT count(*) FROM memberships WHERE room_id = \(roomID))
                 + (SELECT count(*) FROM forward_extremities WHERE room_id = \(roomID))
                 + (SELECT count(*) FROM rooms WHERE room_id = \(roomID))
            """)
    }
}
