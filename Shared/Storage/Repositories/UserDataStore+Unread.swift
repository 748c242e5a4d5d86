import PostgresNIO

/// One user's unread counts in some rooms (see `UnreadCounts`).
public struct UnreadRequest: Sendable {
    public let userID: String, rooms: [String]
    public init(userID: String, rooms: [String]) { (self.userID, self.rooms) = (userID, rooms) }
}

/// Notification and highlight counts per room and thread (`main` for the main timeline).
public typealias UnreadByRoom = [String: [String: (Int64, Int64)]]

extension UserDataStore {
    /// Notification and highlight counts per room and thread, for several users in one
    /// statement, answers in request order: notifications after the user's unthreaded read
    /// receipt and after the receipt of their own thread. Rooms and threads with nothing
    /// unread are absent.
    public func unreadCounts(_ requests: [UnreadRequest]) async throws -> [UnreadByRoom] {
        var out = [UnreadByRoom](repeating: [:], count: requests.count)
        guard requests.contains(where: { !$0.rooms.isEmpty }) else { return out }
        for try await (i, r, th, n, h) in try await db.client.execute(UnreadCounts(requests), logger: db.logger) where out.indices.contains(i) {
            out[i][r, default: [:]][th] = (n, h)
        }
        return out
    }

    /// Counts over every thread, per room.
    public static func totals(_ counts: UnreadByRoom) -> [String: (Int64, Int64)] {
        counts.mapValues { $0.values.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) } }
    }
}
