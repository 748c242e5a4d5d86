import Foundation
import MatrixCore
import Logging
import PostgresNIO

/// The shared Postgres pool. `run()` must be running (it is a service) for queries to go out.
public final class Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// Shared by every store on this pool.
    public let tokenCache = TokenCache()
    /// Events parsed by reads and writes on this pool.
    public let eventCache = EventCache()

    /// `minConnections` are opened at start and kept open.
    public init(url: String, maxConnections: Int = 20, minConnections: Int = 4, logger: Logger) throws {
        let parsed = try DatabaseURL(url)
        var cfg = PostgresClient.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.user,
            password: parsed.password, database: parsed.database, tls: .disable)
        cfg.options.maximumConnections = maxConnections
        // The pool arms a keep-alive timer, and past its minimum an idle timer, each time a
        // connection goes back idle: a Task.sleep that, cancelled at the next query, still holds
        // its memory until the deadline. At a thousand queries a second that was some 70 000
        // pending timers, 40 MB. The first few connections carry most queries and are kept
        // (as Synapse keeps cp_min); a broken one is replaced when it closes, so no keep-alive.
        cfg.options.minimumConnections = min(minConnections, maxConnections)
        cfg.options.keepAliveBehavior = nil
        // Prepared statements keep one plan. By default Postgres re-plans a statement whose
        // array parameters make each custom plan look cheaper than a generic one, and for the
        // short index reads of /sync that planning costs more than running them.
        // JIT compiling a plan takes tens of milliseconds; it pays off for long analytic scans,
        // never for these short reads, yet a generic plan's cost estimate can still trigger it.
        cfg.options.additionalStartupParameters = [("plan_cache_mode", "force_generic_plan"), ("jit", "off")]
        self.client = PostgresClient(configuration: cfg, backgroundLogger: logger)
        self.logger = logger
    }

    public func run() async { await client.run() }

    /// Runs `body` in a transaction; rolls back when it throws and rethrows the original error.
    public func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { conn in
            try await conn.query("BEGIN", logger: logger)
            do {
                let result = try await body(conn)
                try await conn.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await conn.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    @discardableResult
    public func query(_ q: PostgresQuery) async throws -> PostgresRowSequence {
        try await client.query(q, logger: logger)
    }

    /// Runs a query and collects every row (for small result sets).
    public func rows(_ q: PostgresQuery) async throws -> [PostgresRow] {
        var out: [PostgresRow] = []
        for try await row in try await client.query(q, logger: logger) { out.append(row) }
        return out
    }
}

extension PostgresConnection {
    public func rows(_ q: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        var out: [PostgresRow] = []
        for try await row in try await query(q, logger: logger) { out.append(row) }
        return out
    }
}

/// `postgres://user:password@host:port/database`
public struct DatabaseURL: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String

    public init(_ string: String) throws {
        guard let c = try? ConnectionURL(string), c.scheme == "postgres" || c.scheme == "postgresql" else {
            throw StorageError.invalidConfiguration("database URL must look like postgres://user:pass@host:port/db")
        }
        self.host = c.host
        self.port = c.port ?? 5432
        self.user = c.user.flatMap { $0.isEmpty ? nil : $0 } ?? "postgres"
        self.password = c.password
        let db = String(c.path.drop(while: { $0 == "/" }))
        self.database = db.isEmpty ? self.user : db
    }
}

public enum StorageError: Error, CustomStringConvertible {
    case invalidConfiguration(String)
    case migrationFailed(String)
    /// The database answered in a way the schema rules out.
    case unexpected(String)
    public var description: String {
        switch self {
        case .invalidConfiguration(let m): return m
        case .migrationFailed(let m): return m
        case .unexpected(let m): return m
        }
    }
}

/// Milliseconds since the epoch, the unit Matrix uses for timestamps.
public func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
