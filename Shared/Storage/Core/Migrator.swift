import Foundation
import Logging
import PostgresNIO

/// Applies the numbered SQL files in Migrations/ in order, once each, recording them in
/// `schema_migrations`. A session advisory lock keeps two processes from migrating at once.
/// Migrations only expand the schema: blue and green run against it together.
public struct Migrator: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    public static func bundled() throws -> [Migration] {
        guard let dir = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw StorageError.migrationFailed("migrations folder missing from the bundle")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }
        return try files.compactMap { name -> Migration? in
            guard let version = Int(name.prefix(while: \.isNumber)) else { return nil }
            let sql = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            return Migration(version: version, name: name, sql: sql)
        }.sorted { $0.version < $1.version }
    }

    /// Splits a migration file into statements: `;` ends a statement at the end of a line.
    /// Migrations keep to that (no functions with bodies), so no SQL parser is needed.
    static func statements(_ sql: String) -> [String] {
        var out: [String] = []
        var current = ""
        // Inside a $$-quoted function body, semicolons do not end the statement.
        var inBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if !inBody && (trimmed.hasPrefix("--") || trimmed.isEmpty) { continue }
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody && trimmed.hasSuffix(";") {
                out.append(current)
                current = ""
            }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { out.append(current) }
        return out
    }

    /// Returns the versions applied by this call; `upTo` stops after that version (to test
    /// an upgrade from an older schema).
    @discardableResult
    public func migrate(upTo: Int = .max) async throws -> [Int] {
        let migrations = try Self.bundled().filter { $0.version <= upTo }
        return try await db.client.withConnection { conn in
            let log = db.logger
            try await conn.query("SELECT pg_advisory_lock(7236330001)", logger: log)
            do {
                try await conn.query("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version INT PRIMARY KEY, name TEXT NOT NULL, applied_ts BIGINT NOT NULL)
                    """, logger: log)
                var applied = Set<Int>()
                for try await v in try await conn.query("SELECT version FROM schema_migrations", logger: log).decode(Int.self) {
                    applied.insert(v)
                }
                var done: [Int] = []
                for m in migrations where !applied.contains(m.version) {
                    try await conn.query("BEGIN", logger: log)
                    do {
                        for statement in Self.statements(m.sql) {
                            try await conn.query(PostgresQuery(unsafeSQL: statement), logger: log)
                        }
                        try await conn.query(
                            "INSERT INTO schema_migrations (version, name, applied_ts) VALUES (\(m.version), \(m.name), \(nowMillis()))",
                            logger: log)
                        try await conn.query("COMMIT", logger: log)
                    } catch {
                        _ = try? await conn.query("ROLLBACK", logger: log)
                        throw StorageError.migrationFailed("\(m.name): \(String(reflecting: error))")
                    }
                    log.info("applied migration \(m.name)")
                    done.append(m.version)
                }
                try await conn.query("SELECT pg_advisory_unlock(7236330001)", logger: log)
                return done
            } catch {
                _ = try? await conn.query("SELECT pg_advisory_unlock(7236330001)", logger: log)
                throw error
            }
        }
    }
}
