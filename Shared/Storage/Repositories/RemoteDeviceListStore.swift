import PostgresNIO

/// The last device-list `stream_id` taken in per user of another server, so a missed
/// update (an unknown `prev_id`) is noticed.
public struct RemoteDeviceListStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    public func streamID(_ userID: String) async throws -> Int64? {
        try await db.rows("SELECT stream_id FROM remote_device_lists WHERE user_id = \(userID)")
            .first.map { try $0.decode(Int64.self) }
    }

    public func setStreamID(_ userID: String, _ streamID: Int64) async throws {
        _ = try await db.rows("""
            INSERT INTO remote_device_lists (user_id, stream_id, updated_ts) VALUES (\(userID), \(streamID), \(nowMillis()))
            ON CONFLICT (user_id) DO UPDATE SET stream_id = EXCLUDED.stream_id, updated_ts = EXCLUDED.updated_ts
            """)
    }
}
