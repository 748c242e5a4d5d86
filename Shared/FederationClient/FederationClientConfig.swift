/// How the federation client talks to other servers. The service reads these from the
/// environment (`MYELIN_FEDERATION_*`, see .env.example).
public struct FederationClientConfig: Sendable {
    /// Check peers' TLS certificates. Only tests with self-signed certificates turn this off.
    public var verifyTLS: Bool
    /// Connection set-up, including the TLS handshake.
    public var connectTimeout: Duration
    /// A whole request, from connecting to the last byte of the answer.
    public var requestTimeout: Duration
    /// Largest answer accepted from a peer.
    public var maxResponseBytes: Int
    /// First pause after a peer could not be reached; it doubles per failure up to `maxBackoff`.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// The port `/.well-known/matrix/server` is fetched from. Always 443 outside tests.
    public var wellKnownPort: Int
    /// Nameservers for SRV lookups; nil uses /etc/resolv.conf.
    public var nameservers: [SRVResolver.Nameserver]?

    public init(verifyTLS: Bool = true, connectTimeout: Duration = .seconds(10), requestTimeout: Duration = .seconds(60),
                maxResponseBytes: Int = 32 * 1024 * 1024, initialBackoff: Duration = .seconds(5),
                maxBackoff: Duration = .seconds(600), wellKnownPort: Int = 443,
                nameservers: [SRVResolver.Nameserver]? = nil) {
        self.verifyTLS = verifyTLS
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxResponseBytes = maxResponseBytes
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.wellKnownPort = wellKnownPort
        self.nameservers = nameservers
    }
}
