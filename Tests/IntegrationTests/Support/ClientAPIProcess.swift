import ClientAPIService
import Foundation
import MatrixCore
import ServiceKit
import Storage

/// A whole client-API process as `myelin-client-api` runs it (its own pool, bus bridge,
/// notifier and room actors), started in this process on a free port.
struct ClientAPIProcess: MatrixHTTP {
    let port: Int
    let accounts: AccountStore

    /// Runs a process against the test database and Redis for the duration of `body`.
    static func run<T: Sendable>(database tdb: TestDatabase, keyFile: String, label: String,
                                 _ body: (ClientAPIProcess) async throws -> T) async throws -> T {
        let config = ServerConfig(environment: [
            "MYELIN_SERVER_NAME": TestServer.serverName,
            "MYELIN_LISTEN_HOST": "127.0.0.1",
            "MYELIN_LISTEN_PORT": "0",
            "MYELIN_DATABASE_URL": tdb.url,
            "MYELIN_REDIS_URL": try TestEnvironment.redisURL(),
            "MYELIN_SIGNING_KEY_PATH": keyFile,
            "MYELIN_MIGRATE_ON_START": "false",
            "MYELIN_RATE_LIMIT_PER_SECOND": "0",
        ])
        let logger = TestEnvironment.logger(label)
        let (ready, readyIn) = AsyncStream.makeStream(of: Int.self)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask {
                defer { readyIn.finish() }
                try await ClientAPIServer.run(config: config, logger: logger, onReady: { readyIn.yield($0) })
            }
            defer { group.cancelAll() }
            var it = ready.makeAsyncIterator()
            guard let port = await it.next() else {
                try await group.next()
                throw TestFailure("client API process \(label) stopped before listening")
            }
            return try await body(ClientAPIProcess(port: port, accounts: AccountStore(db: tdb.db)))
        }
    }

    /// A fresh signing key in a temporary file, removed after `body`.
    static func withKeyFile<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("myelin-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("signing.key")
        try SigningKey.generate().keyFileLine.write(to: file, atomically: true, encoding: .utf8)
        return try await body(file.path)
    }
}
