import Logging
import PostgresNIO

/// Send-to-device messages: stored per target device with a stream position, deleted once
/// the device syncs past them.
public struct ToDeviceStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    public struct Message: Sendable {
        public let userID: String
        public let deviceID: String
        public let content: String
        public init(userID: String, deviceID: String, content: String) {
            self.userID = userID
            self.deviceID = deviceID
            self.content = content
        }
    }

    /// Stores the messages unless this sender's transaction was seen before. Returns the head
    /// position written, or nil for a repeated transaction.
    public func send(sender: String, senderDevice: String, txnID: String, type: String, messages: [Message]) async throws -> Int64? {
        try await db.streamTransaction { conn, sw in
            let fresh = try await conn.rows("""
                INSERT INTO to_device_txns (user_id, device_id, txn_id, created_ts) VALUES (\(sender), \(senderDevice), \(txnID), \(nowMillis()))
                ON CONFLICT DO NOTHING RETURNING txn_id
                """, logger: db.logger)
            guard !fresh.isEmpty, !messages.isEmpty else { return (nil, nil) }
            let positions = try await sw.allocate(messages.count)
            try await conn.query("""
                INSERT INTO to_device (stream_pos, user_id, device_id, sender, type, content)
                SELECT p, u, d, \(sender), \(type), c FROM unnest(\(positions)::int8[], \(messages.map(\.userID))::text[],
                    \(messages.map(\.deviceID))::text[], \(messages.map(\.content))::text[]) AS x(p, u, d, c)
                """, logger: db.logger)
            return (positions.last, positions.last)
        }
    }
}
