import Logging
import PostgresNIO

/// One backed-up room key (the session data stays opaque: the server cannot read it).
public struct BackupKey: Sendable, Equatable {
    public let roomID: String
    public let sessionID: String
    public let firstMessageIndex: Int64
    public let forwardedCount: Int64
    public let isVerified: Bool
    public let sessionData: String

    public init(roomID: String, sessionID: String, firstMessageIndex: Int64, forwardedCount: Int64, isVerified: Bool, sessionData: String) {
        self.roomID = roomID
        self.sessionID = sessionID
        self.firstMessageIndex = firstMessageIndex
        self.forwardedCount = forwardedCount
        self.isVerified = isVerified
        self.sessionData = sessionData
    }

    /// The spec's rule for a session already in the backup: a verified key beats an
    /// unverified one, then the lower first message index wins, then the lower forwarded
    /// count. On a full tie the stored key stays.
    public func shouldReplace(_ stored: BackupKey) -> Bool {
        if isVerified != stored.isVerified { return isVerified }
        if firstMessageIndex != stored.firstMessageIndex { return firstMessageIndex < stored.firstMessageIndex }
        return forwardedCount < stored.forwardedCount
    }
}

public struct BackupVersion: Sendable {
    public let version: Int64
    public let algorithm: String
    public let authData: String
    public let etag: Int64
    public let count: Int64
}

/// Where a key write landed.
public enum BackupWrite: Sendable, Equatable {
    case stored(etag: Int64, count: Int64)
    /// The user has no backup at all.
    case noBackup
    /// Keys go only to the newest backup; this one is.
    case wrongVersion(current: Int64)
}

/// Server-side room key backups: versions per user and the keys in each.
public struct BackupStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    public func createVersion(_ userID: String, algorithm: String, authData: String) async throws -> Int64 {
        let log = db.logger
        return try await db.transaction { conn in
            // Serialises version numbering per user.
            try await conn.query("SELECT pg_advisory_xact_lock(hashtextextended(\("room_keys:" + userID), 0))", logger: log)
            let row = try await conn.rows("""
                INSERT INTO room_key_backups (user_id, version, algorithm, auth_data)
                SELECT \(userID), COALESCE(max(version), 0) + 1, \(algorithm), \(authData) FROM room_key_backups WHERE user_id = \(userID)
                RETURNING version
                """, logger: log)
            return try row[0].decode(Int64.self)
        }
    }

    /// The newest live backup, or a given one.
    public func version(_ userID: String, _ version: Int64? = nil) async throws -> BackupVersion? {
        let rows = try await db.rows("""
            SELECT b.version, b.algorithm, b.auth_data, b.etag,
                (SELECT count(*) FROM room_key_backup_keys k WHERE k.user_id = b.user_id AND k.version = b.version)
            FROM room_key_backups b
            WHERE b.user_id = \(userID) AND NOT b.deleted AND (\(version)::int8 IS NULL OR b.version = \(version))
            ORDER BY b.version DESC LIMIT 1
            """)
        guard let row = rows.first else { return nil }
        let (v, a, d, e, c) = try row.decode((Int64, String, String, Int64, Int64).self)
        return BackupVersion(version: v, algorithm: a, authData: d, etag: e, count: c)
    }

    /// Replaces the auth data of a live backup; false if there is no such backup.
    public func updateVersion(_ userID: String, _ version: Int64, authData: String) async throws -> Bool {
        !(try await db.rows("""
            UPDATE room_key_backups SET auth_data = \(authData)
            WHERE user_id = \(userID) AND version = \(version) AND NOT deleted RETURNING version
            """)).isEmpty
    }

    /// Deletes a backup with its keys; false if there is no such backup.
    public func deleteVersion(_ userID: String, _ version: Int64) async throws -> Bool {
        let log = db.logger
        return try await db.transaction { conn in
            let rows = try await conn.rows("""
                UPDATE room_key_backups SET deleted = TRUE WHERE user_id = \(userID) AND version = \(version) AND NOT deleted RETURNING version
                """, logger: log)
            guard !rows.isEmpty else { return false }
            try await conn.query("DELETE FROM room_key_backup_keys WHERE user_id = \(userID) AND version = \(version)", logger: log)
            return true
        }
    }

    /// Stores keys in the newest backup, keeping a stored key where the spec's rule prefers it.
    public func putKeys(_ userID: String, _ version: Int64, _ keys: [BackupKey]) async throws -> BackupWrite {
        let log = db.logger
        return try await db.transaction { conn in
            // Locking the newest backup row serialises writers, so the etag counts every change.
            let current = try await conn.rows("""
                SELECT version FROM room_key_backups WHERE user_id = \(userID) AND NOT deleted
                ORDER BY version DESC LIMIT 1 FOR UPDATE
                """, logger: log).first.map { try $0.decode(Int64.self) }
            guard let current else { return .noBackup }
            guard current == version else { return .wrongVersion(current: current) }
            var changed = false
            for k in keys {
                let stored = try await conn.rows("""
                    SELECT first_message_index, forwarded_count, is_verified, session_data FROM room_key_backup_keys
                    WHERE user_id = \(userID) AND version = \(version) AND room_id = \(k.roomID) AND session_id = \(k.sessionID)
                    """, logger: log).first.map { row in
                    let (f, c, v, d) = try row.decode((Int64, Int64, Bool, String).self)
                    return BackupKey(roomID: k.roomID, sessionID: k.sessionID, firstMessageIndex: f, forwardedCount: c, isVerified: v, sessionData: d)
                }
                if let stored, !k.shouldReplace(stored) { continue }
                try await conn.query("""
                    INSERT INTO room_key_backup_keys (user_id, version, room_id, session_id, first_message_index, forwarded_count, is_verified, session_data)
                    VALUES (\(userID), \(version), \(k.roomID), \(k.sessionID), \(k.firstMessageIndex), \(k.forwardedCount), \(k.isVerified), \(k.sessionData))
                    ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET first_message_index = EXCLUDED.first_message_index,
                        forwarded_count = EXCLUDED.forwarded_count, is_verified = EXCLUDED.is_verified, session_data = EXCLUDED.session_data
                    """, logger: log)
                changed = true
            }
            return try await finishWrite(conn, userID, version, changed: changed)
        }
    }

    /// Keys of a live backup, narrowed to a room or a session; nil if there is no such backup.
    public func keys(_ userID: String, _ version: Int64, roomID: String? = nil, sessionID: String? = nil) async throws -> [BackupKey]? {
        guard try await self.version(userID, version) != nil else { return nil }
        return try await db.rows("""
            SELECT room_id, session_id, first_message_index, forwarded_count, is_verified, session_data FROM room_key_backup_keys
            WHERE user_id = \(userID) AND version = \(version)
              AND (\(roomID)::text IS NULL OR room_id = \(roomID)) AND (\(sessionID)::text IS NULL OR session_id = \(sessionID))
            ORDER BY room_id, session_id
            """).map { row in
            let (r, s, f, c, v, d) = try row.decode((String, String, Int64, Int64, Bool, String).self)
            return BackupKey(roomID: r, sessionID: s, firstMessageIndex: f, forwardedCount: c, isVerified: v, sessionData: d)
        }
    }

    /// Deletes keys from a live backup; nil if there is no such backup.
    public func deleteKeys(_ userID: String, _ version: Int64, roomID: String? = nil, sessionID: String? = nil) async throws -> (etag: Int64, count: Int64)? {
        let log = db.logger
        return try await db.transaction { conn in
            let live = try await conn.rows("""
                SELECT version FROM room_key_backups WHERE user_id = \(userID) AND version = \(version) AND NOT deleted FOR UPDATE
                """, logger: log)
            guard !live.isEmpty else { return nil }
            let deleted = try await conn.rows("""
                DELETE FROM room_key_backup_keys WHERE user_id = \(userID) AND version = \(version)
                  AND (\(roomID)::text IS NULL OR room_id = \(roomID)) AND (\(sessionID)::text IS NULL OR session_id = \(sessionID))
                RETURNING session_id
                """, logger: log)
            guard case .stored(let etag, let count) = try await finishWrite(conn, userID, version, changed: !deleted.isEmpty) else { return nil }
            return (etag, count)
        }
    }

    private func finishWrite(_ conn: PostgresConnection, _ userID: String, _ version: Int64, changed: Bool) async throws -> BackupWrite {
        let log = db.logger
        if changed {
            try await conn.query("UPDATE room_key_backups SET etag = etag + 1 WHERE user_id = \(userID) AND version = \(version)", logger: log)
        }
        let row = try await conn.rows("""
            SELECT b.etag, (SELECT count(*) FROM room_key_backup_keys k WHERE k.user_id = b.user_id AND k.version = b.version)
            FROM room_key_backups b WHERE b.user_id = \(userID) AND b.version = \(version)
            """, logger: log)
        let (etag, count) = try row[0].decode((Int64, Int64).self)
        return .stored(etag: etag, count: count)
    }
}
