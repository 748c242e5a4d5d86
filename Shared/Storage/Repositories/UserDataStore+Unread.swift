import PostgresNIO

extension UserDataStore {
    /// Notification and highlight counts per room and thread (`main` for the main timeline):
    /// notifications after the user's unthreaded read receipt and after the receipt of their
    /// own thread. Rooms and threads with nothing unread are absent.
    public func unreadCounts(userID: String, rooms: [String]) async throws -> [String: [String: (Int64, Int64)]] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: [String: (Int64, Int64)]] = [:]
        for try await (r, th, n, h) in try await db.client.execute(UnreadCounts(userID: userID, rooms: rooms), logger: db.logger) {
            out[r, default: [:]][th] = (n, h)
        }
        return out
    }

    /// Counts over every thread, per room.
    public func unreadTotals(userID: String, rooms: [String]) async throws -> [String: (Int64, Int64)] {
        try await unreadCounts(userID: userID, rooms: rooms).mapValues { $0.values.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) } }
    }
}
