import FederationClient
import Foundation
import Logging
import MatrixCore
import ServiceKit
import Storage

/// Runs the federation sender as a process of its own: the database pool, the sender, and
/// an HTTP listener with nothing but health, readiness and metrics.
public enum FederationSenderServer {
    public static func senderConfig(_ c: ServerConfig) -> SenderConfig {
        SenderConfig(catchUpInterval: .seconds(c.federationSenderCatchUpSeconds),
                     maxRetryDelay: .seconds(c.federationSenderMaxRetrySeconds), instanceName: c.federationSenderInstance)
    }

    public static func run(config: ServerConfig, logger: Logger) async throws {
        guard let name = ServerName(config.serverName) else { throw MatrixError.invalidParam("MYELIN_SERVER_NAME is not a valid server name") }
        let text = try String(contentsOfFile: config.signingKeyPath, encoding: .utf8)
        guard let key = try SigningKey.parseKeyFile(text).first else { throw MatrixError.unknown("no signing key in \(config.signingKeyPath)") }
        let db = try Database(url: config.databaseURL, logger: logger)
        // The client's own pause after failures must not outlast the sender's retry cap.
        let federation = FederationClient(origin: name, signingKey: key,
                                          config: FederationClientConfig(verifyTLS: config.federationVerifyTLS,
                                                                         maxBackoff: .seconds(config.federationSenderMaxRetrySeconds)),
                                          keyStore: ServerKeyStore(db: db), logger: logger)
        let sender = try FederationSender(db: db, federation: federation, redisURL: config.redisURL,
                                          config: senderConfig(config), logger: logger)
        let routes = ServiceRunner.healthRoutes(ready: { (try? await db.currentStreamHead()) != nil })
        let responder = MatrixResponder(routes: routes, tokens: AccountStore(db: db), limiter: RateLimiter(perSecond: 0, burst: 0),
                                        maxBodyBytes: config.maxBodyBytes, logger: logger)
        let migrate = config.migrateOnStart
        do {
            try await ServiceRunner.run(
                config: config, responder: responder,
                dependencies: [ClosureService { await db.run() }, ClosureService { await sender.run() }], logger: logger,
                beforeStart: { if migrate { try await Migrator(db: db).migrate() } })
        } catch {
            await federation.shutdown()
            throw error
        }
        await federation.shutdown()
    }
}
