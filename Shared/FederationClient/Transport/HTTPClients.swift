import AsyncHTTPClient
import NIOCore
import NIOSSL

/// The HTTP clients behind federation. Federation requests never follow redirects;
/// `.well-known` look-ups do (without loops). A destination found through SRV is reached
/// at the SRV target while its certificate and SNI name the delegated host: that takes a
/// client with a DNS override, made on first use and kept.
/// Clients are made on first use, so an owner that never federates has nothing to shut down.
actor HTTPClients {
    private var clients: [String: HTTPClient] = [:]
    private let config: FederationClientConfig

    init(config: FederationClientConfig) {
        self.config = config
    }

    var federation: HTTPClient { client("federation", redirects: .disallow) }
    var wellKnown: HTTPClient { client("well-known", redirects: .follow(max: 5, allowCycles: false)) }

    private func client(_ key: String, redirects: HTTPClient.Configuration.RedirectConfiguration,
                        dnsOverride: [String: String] = [:]) -> HTTPClient {
        if let c = clients[key] { return c }
        let c = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                           configuration: Self.configuration(config, redirects: redirects, dnsOverride: dnsOverride))
        clients[key] = c
        return c
    }

    static func configuration(_ c: FederationClientConfig, redirects: HTTPClient.Configuration.RedirectConfiguration,
                              dnsOverride: [String: String] = [:]) -> HTTPClient.Configuration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !c.verifyTLS { tls.certificateVerification = .none }
        var pool = HTTPClient.Configuration.ConnectionPool(idleTimeout: .seconds(60))
        // A refused connection fails the request at once instead of being retried until the
        // deadline: the caller's backoff decides when to try again.
        pool.retryConnectionEstablishment = false
        var cfg = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: redirects,
            timeout: .init(connect: .nanoseconds(Int64(c.connectTimeout.nanoseconds)),
                           read: .nanoseconds(Int64(c.requestTimeout.nanoseconds))),
            connectionPool: pool)
        cfg.dnsOverride = dnsOverride
        cfg.httpVersion = .http1Only
        return cfg
    }

    /// The client that connects to `connectHost` for URLs naming `tlsName`.
    func client(tlsName: String, connectHost: String) -> HTTPClient {
        if tlsName == connectHost { return federation }
        return client("srv\u{0}" + tlsName + "\u{0}" + connectHost, redirects: .disallow, dnsOverride: [tlsName: connectHost])
    }

    func shutdown() async {
        let all = clients.values
        clients = [:]
        for c in all { try? await c.shutdown() }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
