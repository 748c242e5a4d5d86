import FederationSenderService
import Logging
import ServiceKit

/// `myelin-federation-sender`: outbound federation as a process of its own.
@main
struct FederationSenderMain {
    static func main() async throws {
        ProcessDefaults.apply()
        let config = ServerConfig()
        var logger = Logger(label: "myelin.federation-sender")
        logger.logLevel = config.logLevel
        try await FederationSenderServer.run(config: config, logger: logger)
    }
}
