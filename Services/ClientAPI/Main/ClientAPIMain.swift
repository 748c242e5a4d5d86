import ClientAPIService
import Logging
import ServiceKit

/// `myelin-client-api`: the client API (and inbound federation) alone, configured from the environment.
@main
struct ClientAPIMain {
    static func main() async throws {
        ProcessDefaults.apply()
        let config = ServerConfig()
        var logger = Logger(label: "myelin.client-api")
        logger.logLevel = config.logLevel
        try await ClientAPIServer.run(config: config, logger: logger)
    }
}
