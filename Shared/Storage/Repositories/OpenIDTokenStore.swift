import PostgresNIO

/// OpenID tokens: a local user's proof of identity that another server checks with us
/// (`/openid/userinfo`). Kept as a hash, valid for an hour; expired ones are swept on issue.
public struct OpenIDTokenStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    public static let lifetimeMs: Int64 = 3_600_000

    /// A new token for the user; what the client gets (only its hash is stored).
    public func issue(_ userID: String) async throws -> String {
        let token = "myo_" + randomToken(bytes: 32)
        let now = nowMillis()
        _ = try await db.rows("DELETE FROM openid_tokens WHERE expires_ts <= \(now)")
        _ = try await db.rows("""
            INSERT INTO openid_tokens (token_hash, user_id, expires_ts)
            VALUES (\(AccountStore.hashToken(token)), \(userID), \(now + Self.lifetimeMs))
            """)
        return token
    }

    /// The user a live token was issued to; nil when unknown or expired.
    public func user(_ token: String) async throws -> String? {
        try await db.rows("""
            SELECT user_id FROM openid_tokens WHERE token_hash = \(AccountStore.hashToken(token)) AND expires_ts > \(nowMillis())
            """).first.map { try $0.decode(String.self) }
    }
}
