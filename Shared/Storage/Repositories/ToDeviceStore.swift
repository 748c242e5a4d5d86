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

    /// What storing a batch did: whether its transaction was new, and the head position
    /// written (nil when nothing was stored).
    public struct Outcome: Sendable {
        public let fresh: Bool
        public let head: Int64?
    }

    /// Stores a local client's messages unless this device's transaction was seen before.
    public func send(sender: String, senderDevice: String, txnID: String, type: String, messages: [Message]) async throws -> Outcome {
        try await store(key: (sender, senderDevice, txnID), sender: sender, type: type, messages: messages)
    }

    /// Stores messages another server sent, once per origin and message ID.
    public func receive(origin: String, messageID: String, sender: String, type: String, messages: [Message]) async throws -> Outcome {
        // Keyed by the server name, which cannot be mistaken for a user ID (those start with @).
        try await store(key: (origin, "", messageID), sender: sender, type: type, messages: messages)
    }

    private func store(key: (owner: String, device: String, txn: String), sender: String, type: String,
                       messages: [Message]) async throws -> Outcome {
        try await db.streamTransaction { conn, sw in
            let fresh = try await conn.rows("""
                INSERT INTO to_device_txns (user_id, device_id, txn_id, created_ts) VALUES (\(key.owner), \(key.device), \(key.txn), \(nowMillis()))
                ON CONFLICT DO NOTHING RETURNING txn_id
                """, logger: db.logger)
            guard !fresh.isEmpty else { return (Outcome(fresh: false, head: nil), nil) }
            guard !messages.isEmpty else { return (Outcome(fresh: true, head: nil), nil) }
            let positions = try await sw.allocate(messages.count)
            try await conn.query("""
                INSERT INTO to_device (stream_pos, user_id, device_id, sender, type, content)
                SELECT p, u, d, \(sender), \(type), c FROM unnest(\(positions)::int8[], \(messages.map(\.userID))::text[],
                    \(messages.map(\.deviceID))::text[], \(messages.map(\.content))::text[]) AS x(p, u, d, c)
                """, logger: db.logger)
            return (Outcome(fresh: true, head: positions.last), positions.last)
        }
    }
}
