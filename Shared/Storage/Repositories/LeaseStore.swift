import PostgresNIO

/// Leader leases in Postgres (`leases`): work that must run in one process at a time
/// (sending to one destination) is done by whoever holds its lease. A lease is held until
/// it expires unless renewed; an expired lease can be taken by anyone.
public struct LeaseStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    /// Takes or renews `name` for `holder` until `ttlMs` from now. False when another
    /// holder's lease has not expired.
    public func acquire(_ name: String, holder: String, ttlMs: Int64) async throws -> Bool {
        let now = nowMillis()
        let rows = try await db.rows("""
            INSERT INTO leases (name, holder, expires_ts) VALUES (\(name), \(holder), \(now + ttlMs))
            ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_ts = EXCLUDED.expires_ts
                WHERE leases.holder = EXCLUDED.holder OR leases.expires_ts < \(now)
            RETURNING holder
            """)
        return !rows.isEmpty
    }

    /// Gives the lease up, if `holder` has it.
    public func release(_ name: String, holder: String) async throws {
        try await db.query("DELETE FROM leases WHERE name = \(name) AND holder = \(holder)")
    }

    /// Drops every lease whose holder starts with `prefix`, except `holder`'s own; returns
    /// how many. For a restarted process taking over what its dead predecessor held.
    @discardableResult
    public func releaseAll(heldByPrefix prefix: String, except holder: String) async throws -> Int {
        let rows = try await db.rows("""
            DELETE FROM leases WHERE starts_with(holder, \(prefix)) AND holder <> \(holder) RETURNING name
            """)
        return rows.count
    }

    /// The current holder of `name`, if its lease has not expired.
    public func holder(_ name: String) async throws -> String? {
        for try await h in try await db.query("""
            SELECT holder FROM leases WHERE name = \(name) AND expires_ts >= \(nowMillis())
            """).decode(String.self) {
            return h
        }
        return nil
    }
}
