import Logging
import MatrixCore
import Storage

/// Outbound server-server HTTP for every service: discovery, X-Matrix signed requests with
/// timeouts and per-destination backoff, and other servers' signing keys.
public final class FederationClient: Sendable {
    public let origin: ServerName
    public let keys: ServerKeyRing
    public let resolver: ServerResolver
    let transport: FederationTransport

    public init(origin: ServerName, signingKey: SigningKey, config: FederationClientConfig, keyStore: ServerKeyStore,
                logger: Logger) {
        self.origin = origin
        transport = FederationTransport(origin: origin, signingKey: signingKey, config: config, logger: logger)
        resolver = transport.resolver
        keys = ServerKeyRing(transport: transport, store: keyStore, logger: logger)
    }

    /// A signed request; returns the answer whatever its status.
    public func send(_ method: String, to destination: ServerName, _ uri: String, body: JSON? = nil,
                     timeout: Duration? = nil) async throws(FederationError) -> FederationResponse {
        try await transport.send(method, to: destination, uri: uri, body: body, signed: true, timeout: timeout)
    }

    /// A signed GET whose 2xx JSON answer is returned; other answers throw.
    public func get(_ destination: ServerName, _ uri: String, timeout: Duration? = nil) async throws(FederationError) -> JSON {
        try await send("GET", to: destination, uri, timeout: timeout).requireJSON()
    }

    /// A signed POST of `body` whose 2xx JSON answer is returned; other answers throw.
    public func post(_ destination: ServerName, _ uri: String, body: JSON,
                     timeout: Duration? = nil) async throws(FederationError) -> JSON {
        try await send("POST", to: destination, uri, body: body, timeout: timeout).requireJSON()
    }

    /// `destination` just reached us, so it is up again: its requests stop backing off now
    /// rather than when the pause after its last failure would have ended.
    public func peerIsUp(_ destination: ServerName) async {
        await transport.backoff.succeeded(destination.rawValue)
    }

    public func shutdown() async {
        await transport.clients.shutdown()
    }
}
