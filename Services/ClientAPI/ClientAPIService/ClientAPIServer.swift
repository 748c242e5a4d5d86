import Bus
import Foundation
import Logging
import MatrixCore
import ServiceKit
import Storage

/// Runs the client API as a process: the database pool, the bus, then the HTTP server.
public enum ClientAPIServer {
    public static func loadSigningKey(_ path: String) throws -> SigningKey {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let key = try SigningKey.parseKeyFile(text).first else {
            throw MatrixError.unknown("no signing key in \(path)")
        }
        return key
    }

    /// `alongside` adds services that run in the same process on the same pool and
    /// federation client (`myelin serve --all`: the federation sender).
    public static func run(config: ServerConfig, logger: Logger, onReady: (@Sendable (Int) async -> Void)? = nil,
                           alongside: (ClientAPI) throws -> [ClosureService] = { _ in [] }) async throws {
        let key = try loadSigningKey(config.signingKeyPath)
        let db = try Database(url: config.databaseURL, logger: logger)
        let bridge = try BusBridge(url: config.redisURL, logger: logger)
        let api = try ClientAPI(config: config, db: db, signingKey: key, publisher: bridge, logger: logger)
        let pool = ClosureService { await db.run() }
        let bus = ClosureService {
            await withDiscardingTaskGroup { g in
                g.addTask { await bridge.runPublisher() }
                g.addTask { await bridge.runReaders(notifier: api.notifier, db: db) }
            }
        }
        let migrate = config.migrateOnStart
        let responder = api.responder()
        // The HTTPS listener for other servers, when configured, serves the same routes.
        let federationListener = try TLSListener.application(config: config, responder: responder, logger: logger)
        let extra = try alongside(api)
        do {
            try await ServiceRunner.run(
                config: config, responder: responder,
                dependencies: [pool, bus] + extra + (federationListener.map { [$0] } ?? []),
                logger: logger, beforeStart: { if migrate { try await Migrator(db: db).migrate() } }, onReady: onReady,
                onDrain: { await api.notifier.drain() })
        } catch {
            await api.federation.shutdown()
            throw error
        }
        await api.federation.shutdown()
    }
}
