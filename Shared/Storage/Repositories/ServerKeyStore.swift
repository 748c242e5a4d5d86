import PostgresNIO

/// A signing key another server published.
public struct StoredServerKey: Sendable, Equatable {
    public let serverName: String
    public let keyID: String
    /// Unpadded Base64.
    public let verifyKey: String
    public let validUntilTS: Int64
    public let expiredTS: Int64?

    public init(serverName: String, keyID: String, verifyKey: String, validUntilTS: Int64, expiredTS: Int64?) {
        self.serverName = serverName
        self.keyID = keyID
        self.verifyKey = verifyKey
        self.validUntilTS = validUntilTS
        self.expiredTS = expiredTS
    }
}

/// A server's last key response as received.
public struct StoredKeyResponse: Sendable, Equatable {
    public let json: String
    public let validUntilTS: Int64
    public let fetchedTS: Int64
}

/// Remote servers' signing keys and the responses they came in.
public struct ServerKeyStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    public func keys(of server: String) async throws -> [StoredServerKey] {
        var out: [StoredServerKey] = []
        for try await (id, key, until, expired) in try await db.query("""
            SELECT key_id, verify_key, valid_until_ts, expired_ts FROM server_keys WHERE server_name = \(server)
            """).decode((String, String, Int64, Int64?).self) {
            out.append(StoredServerKey(serverName: server, keyID: id, verifyKey: key, validUntilTS: until, expiredTS: expired))
        }
        return out
    }

    public func response(of server: String) async throws -> StoredKeyResponse? {
        for try await (json, until, fetched) in try await db.query("""
            SELECT response_json, valid_until_ts, fetched_ts FROM server_key_responses WHERE server_name = \(server)
            """).decode((String, Int64, Int64).self) {
            return StoredKeyResponse(json: json, validUntilTS: until, fetchedTS: fetched)
        }
        return nil
    }

    /// Records a verified response and the keys in it, in one transaction. Keys the server
    /// no longer lists stay: old events still need them.
    public func store(server: String, responseJSON: String, validUntilTS: Int64, fetchedTS: Int64,
                      keys: [StoredServerKey]) async throws {
        try await db.transaction { conn in
            try await conn.query("""
                INSERT INTO server_key_responses (server_name, response_json, valid_until_ts, fetched_ts)
                VALUES (\(server), \(responseJSON), \(validUntilTS), \(fetchedTS))
                ON CONFLICT (server_name) DO UPDATE SET response_json = excluded.response_json,
                    valid_until_ts = excluded.valid_until_ts, fetched_ts = excluded.fetched_ts
                """, logger: db.logger)
            for k in keys {
                try await conn.query("""
                    INSERT INTO server_keys (server_name, key_id, verify_key, valid_until_ts, expired_ts, fetched_ts)
                    VALUES (\(server), \(k.keyID), \(k.verifyKey), \(k.validUntilTS), \(k.expiredTS), \(fetchedTS))
                    ON CONFLICT (server_name, key_id) DO UPDATE SET verify_key = excluded.verify_key,
                        valid_until_ts = excluded.valid_until_ts, expired_ts = excluded.expired_ts,
                        fetched_ts = excluded.fetched_ts
                    """, logger: db.logger)
            }
        }
    }
}
