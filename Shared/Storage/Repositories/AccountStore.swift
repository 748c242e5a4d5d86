import Crypto
import Foundation
import HummingbirdBcrypt
import Logging
import MatrixCore
import NIOPosix
import PostgresNIO

public struct UserRecord: Sendable {
    public let userID: String
    public let passwordHash: String?
    public let isAdmin: Bool
    public let deactivated: Bool
    public let displayname: String?
    public let avatarURL: String?
}

public struct DeviceRecord: Sendable {
    public let deviceID: String
    public let displayName: String?
    public let lastSeenTS: Int64?
    public let lastSeenIP: String?
}

public struct TokenOwner: Sendable, Hashable {
    public let userID: String
    public let deviceID: String
    public let isAdmin: Bool
}

/// Users, devices, access tokens and UIA sessions.
public struct AccountStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    // MARK: passwords (bcrypt on a thread pool, never on an event loop or the cooperative pool)

    public static func hashPassword(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: 12) }
    }

    public static func verifyPassword(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    // MARK: users

    /// Creates the user; false if the ID is taken.
    public func createUser(_ userID: String, passwordHash: String?, isAdmin: Bool = false, displayname: String?) async throws -> Bool {
        let rows = try await db.rows("""
            INSERT INTO users (user_id, password_hash, is_admin, displayname, created_ts)
            VALUES (\(userID), \(passwordHash), \(isAdmin), \(displayname), \(nowMillis()))
            ON CONFLICT (user_id) DO NOTHING RETURNING user_id
            """)
        return !rows.isEmpty
    }

    public func user(_ userID: String) async throws -> UserRecord? {
        let rows = try await db.query("""
            SELECT user_id, password_hash, is_admin, deactivated, displayname, avatar_url FROM users WHERE user_id = \(userID)
            """)
        for try await (u, h, a, d, n, av) in rows.decode((String, String?, Bool, Bool, String?, String?).self) {
            return UserRecord(userID: u, passwordHash: h, isAdmin: a, deactivated: d, displayname: n, avatarURL: av)
        }
        return nil
    }

    public func userExists(_ userID: String) async throws -> Bool { try await user(userID) != nil }

    public func setPasswordHash(_ userID: String, _ hash: String) async throws {
        try await db.query("UPDATE users SET password_hash = \(hash) WHERE user_id = \(userID)")
    }

    public func deactivate(_ userID: String) async throws {
        try await db.transaction { conn in
            try await conn.query("UPDATE users SET deactivated = TRUE, password_hash = NULL, displayname = NULL, avatar_url = NULL WHERE user_id = \(userID)", logger: db.logger)
            try await conn.query("DELETE FROM access_tokens WHERE user_id = \(userID)", logger: db.logger)
            try await conn.query("DELETE FROM devices WHERE user_id = \(userID)", logger: db.logger)
        }
        db.tokenCache.forget(userID: userID)
    }

    public func setDisplayname(_ userID: String, _ name: String?) async throws {
        try await db.query("UPDATE users SET displayname = \(name) WHERE user_id = \(userID)")
    }

    public func setAvatarURL(_ userID: String, _ url: String?) async throws {
        try await db.query("UPDATE users SET avatar_url = \(url) WHERE user_id = \(userID)")
    }

    // MARK: devices and tokens

    /// Hex SHA-256 of a token: what is stored and looked up.
    public static func hashToken(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Data(token.utf8)))
    }

    /// Creates (or reuses) the device and issues a new access token for it.
    public func createSession(userID: String, deviceID: String, displayName: String?, ip: String?) async throws -> String {
        let token = "myl_" + randomToken(bytes: 32)
        let hash = Self.hashToken(token)
        try await db.transaction { conn in
            try await conn.query("""
                INSERT INTO devices (user_id, device_id, display_name, last_seen_ts, last_seen_ip)
                VALUES (\(userID), \(deviceID), \(displayName), \(nowMillis()), \(ip))
                ON CONFLICT (user_id, device_id) DO UPDATE SET last_seen_ts = EXCLUDED.last_seen_ts,
                    display_name = COALESCE(EXCLUDED.display_name, devices.display_name)
                """, logger: db.logger)
            // A device has one live token: logging in again with the same device ID replaces it.
            try await conn.query("DELETE FROM access_tokens WHERE user_id = \(userID) AND device_id = \(deviceID)", logger: db.logger)
            try await conn.query("""
                INSERT INTO access_tokens (token_hash, user_id, device_id, created_ts)
                VALUES (\(hash), \(userID), \(deviceID), \(nowMillis()))
                """, logger: db.logger)
        }
        // The device's previous token, if any, is gone.
        db.tokenCache.forget(userID: userID)
        return token
    }

    public func tokenOwner(_ token: String) async throws -> TokenOwner? {
        let hash = Self.hashToken(token)
        let (cached, generation) = db.tokenCache.lookup(hash)
        if let cached { return cached }
        for try await (u, d, a) in try await db.client.execute(LookupToken(hash: hash), logger: db.logger) {
            let owner = TokenOwner(userID: u, deviceID: d, isAdmin: a)
            db.tokenCache.store(hash, owner, ifGeneration: generation)
            return owner
        }
        return nil
    }

    public func devices(_ userID: String) async throws -> [DeviceRecord] {
        let rows = try await db.query("""
            SELECT device_id, display_name, last_seen_ts, last_seen_ip FROM devices WHERE user_id = \(userID) ORDER BY device_id
            """)
        var out: [DeviceRecord] = []
        for try await (d, n, ts, ip) in rows.decode((String, String?, Int64?, String?).self) {
            out.append(DeviceRecord(deviceID: d, displayName: n, lastSeenTS: ts, lastSeenIP: ip))
        }
        return out
    }

    public func setDeviceName(_ userID: String, _ deviceID: String, _ name: String?) async throws -> Bool {
        let rows = try await db.rows("UPDATE devices SET display_name = \(name) WHERE user_id = \(userID) AND device_id = \(deviceID) RETURNING device_id")
        return !rows.isEmpty
    }

    /// Deletes devices with their tokens and keys, and records a device-list change.
    public func deleteDevices(_ userID: String, _ deviceIDs: [String]) async throws -> Int64? {
        guard !deviceIDs.isEmpty else { return nil }
        defer { db.tokenCache.forget(userID: userID) }
        return try await db.writeAtNewPosition { conn, pos in
            try await conn.query("DELETE FROM access_tokens WHERE user_id = \(userID) AND device_id = ANY(\(deviceIDs))", logger: db.logger)
            try await conn.query("DELETE FROM devices WHERE user_id = \(userID) AND device_id = ANY(\(deviceIDs))", logger: db.logger)
            try await conn.query("DELETE FROM device_keys WHERE user_id = \(userID) AND device_id = ANY(\(deviceIDs))", logger: db.logger)
            try await conn.query("DELETE FROM one_time_keys WHERE user_id = \(userID) AND device_id = ANY(\(deviceIDs))", logger: db.logger)
            try await conn.query("DELETE FROM fallback_keys WHERE user_id = \(userID) AND device_id = ANY(\(deviceIDs))", logger: db.logger)
            try await conn.query("DELETE FROM to_device WHERE user_id = \(userID) AND device_id = ANY(\(deviceIDs))", logger: db.logger)
            try await conn.query("INSERT INTO device_list_changes (stream_pos, user_id) VALUES (\(pos), \(userID))", logger: db.logger)
        }
    }

    /// Logs out every device except `keep` (token only for `keep`: its session stays).
    public func deleteTokens(_ userID: String, exceptDevice keep: String? = nil) async throws {
        defer { db.tokenCache.forget(userID: userID) }
        if let keep {
            try await db.query("DELETE FROM access_tokens WHERE user_id = \(userID) AND device_id <> \(keep)")
        } else {
            try await db.query("DELETE FROM access_tokens WHERE user_id = \(userID)")
        }
    }

    // MARK: UIA sessions

    public func createUIASession(userID: String?) async throws -> String {
        let id = randomToken(bytes: 16)
        try await db.query("INSERT INTO uia_sessions (session_id, user_id, created_ts) VALUES (\(id), \(userID), \(nowMillis()))")
        return id
    }

    /// Completed stages of a live session (sessions expire after an hour), nil if unknown.
    public func uiaCompleted(_ session: String) async throws -> [String]? {
        let cutoff = nowMillis() - 3_600_000
        for try await c in try await db.query("SELECT completed FROM uia_sessions WHERE session_id = \(session) AND created_ts > \(cutoff)").decode([String].self) {
            return c
        }
        return nil
    }

    public func uiaComplete(_ session: String, stage: String) async throws {
        try await db.query("UPDATE uia_sessions SET completed = array_append(completed, \(stage)) WHERE session_id = \(session) AND NOT (\(stage) = ANY(completed))")
    }

    public func deleteUIASession(_ session: String) async throws {
        try await db.query("DELETE FROM uia_sessions WHERE session_id = \(session)")
    }

    /// Records a shared-secret registration nonce; false if it was already used.
    public func useNonce(_ nonce: String) async throws -> Bool {
        let rows = try await db.rows("INSERT INTO used_nonces (nonce, created_ts) VALUES (\(nonce), \(nowMillis())) ON CONFLICT DO NOTHING RETURNING nonce")
        return !rows.isEmpty
    }
}

/// URL-safe random token from the system CSPRNG.
public func randomToken(bytes: Int) -> String {
    var g = SystemRandomNumberGenerator()
    let raw = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &g) }
    return Data(raw).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// Random string of letters, as Synapse uses for device IDs.
public func randomLetters(_ n: Int) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    var g = SystemRandomNumberGenerator()
    return String((0..<n).map { _ in alphabet.randomElement(using: &g)! })
}
