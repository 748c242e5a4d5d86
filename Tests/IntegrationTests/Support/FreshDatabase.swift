import Foundation
import Logging
import PostgresNIO
import Storage
import Testing

/// A database of its own, created for one suite (or one test) on the test Postgres and
/// dropped afterwards, so suites never see each other's rows and can run in parallel.
struct TestDatabase: Sendable {
    let name: String
    let url: String
    /// A running pool on it.
    let db: Database

    @TaskLocal static var scoped: TestDatabase?

    /// The database of the enclosing `.freshDatabase` suite.
    static func current() throws -> TestDatabase {
        guard let scoped else { throw TestFailure("no fresh database in scope; add the .freshDatabase trait to the suite") }
        return scoped
    }

    /// Runs `body` with a second, independent pool on the same database (another process's view).
    func withSecondPool<T: Sendable>(maxConnections: Int = 5, _ body: (Database) async throws -> T) async throws -> T {
        try await withRunningPool(url: url, maxConnections: maxConnections, logger: TestEnvironment.logger("pool2"), body)
    }
}

/// Creates `myelin_it_<random>`, optionally migrates it, runs `body` with a pool on it, then
/// closes the pool and drops the database, whether `body` succeeded or not.
func withFreshDatabase<T: Sendable>(migrated: Bool = true, maxConnections: Int = 10,
                                    _ body: (TestDatabase) async throws -> T) async throws -> T {
    let baseURL = try TestEnvironment.databaseURL()
    let name = "myelin_it_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    try await PostgresAdmin.execute(baseURL, "CREATE DATABASE \(name)")
    let result: Result<T, any Error>
    do {
        let url = try PostgresAdmin.url(baseURL, database: name)
        let value = try await withRunningPool(url: url, maxConnections: maxConnections, logger: TestEnvironment.logger("db")) { db in
            if migrated { try await Migrator(db: db).migrate() }
            return try await body(TestDatabase(name: name, url: url, db: db))
        }
        result = .success(value)
    } catch {
        // A PSQLError describes itself generically; the test log needs what Postgres said.
        if error is PSQLError { print("Postgres error in a test on \(name): \(String(reflecting: error))") }
        result = .failure(error)
    }
    try await PostgresAdmin.drop(baseURL, database: name)
    return try result.get()
}

/// Runs a pool for the duration of `body`.
func withRunningPool<T: Sendable>(url: String, maxConnections: Int, logger: Logger,
                                  _ body: (Database) async throws -> T) async throws -> T {
    // Hundreds of test databases share one Postgres: none keeps idle connections open.
    let db = try Database(url: url, maxConnections: maxConnections, minConnections: 0, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        group.addTask { await db.run() }
        defer { group.cancelAll() }
        return try await body(db)
    }
}

/// One-off statements on the database named in the test URL (creating and dropping others).
enum PostgresAdmin {
    static func url(_ base: String, database: String) throws -> String {
        guard var c = URLComponents(string: base) else { throw TestFailure("bad database URL \(base)") }
        c.path = "/" + database
        guard let s = c.string else { throw TestFailure("bad database URL \(base)") }
        return s
    }

    /// Drops `database`, ending its sessions. Retried a few times: under load, a session
    /// of the pool just closed may take longer than Postgres waits for it to end.
    static func drop(_ baseURL: String, database: String) async throws {
        var attempt = 1
        while true {
            do {
                return try await execute(baseURL, "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            } catch let error as PSQLError where attempt < 3 {
                print("dropping \(database) failed, trying again: \(String(reflecting: error))")
                attempt += 1
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    static func execute(_ baseURL: String, _ sql: String) async throws {
        let u = try DatabaseURL(baseURL)
        let logger = TestEnvironment.logger("admin")
        let cfg = PostgresConnection.Configuration(host: u.host, port: u.port, username: u.user, password: u.password,
                                                   database: u.database, tls: .disable)
        let conn = try await PostgresConnection.connect(configuration: cfg, id: 1, logger: logger)
        do {
            try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            try await conn.close()
        } catch {
            try? await conn.close()
            throw error
        }
    }
}

/// Suite trait: the suite's tests share one fresh, migrated database (`TestDatabase.current()`).
struct FreshDatabaseTrait: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        try await withFreshDatabase { tdb in
            try await TestDatabase.$scoped.withValue(tdb) { try await function() }
        }
    }
}

extension Trait where Self == FreshDatabaseTrait {
    static var freshDatabase: Self { Self() }
}
