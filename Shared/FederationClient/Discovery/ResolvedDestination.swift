/// Where and how to reach a server: the address to connect to, the `Host` header, and the
/// name its certificate must carry (sent as SNI). IP literals have no certificate name.
public struct ResolvedDestination: Sendable, Equatable {
    /// A DNS name or an IP literal without brackets.
    public let host: String
    public let port: Int
    public let hostHeader: String
    /// nil when the certificate must be valid for an IP address (no SNI then).
    public let tlsName: String?

    public init(host: String, port: Int, hostHeader: String, tlsName: String?) {
        self.host = host
        self.port = port
        self.hostHeader = hostHeader
        self.tlsName = tlsName
    }

    /// The authority in the request URL: the certificate name, or the bracketed IP.
    var urlAuthority: String {
        let h = tlsName ?? (host.contains(":") ? "[\(host)]" : host)
        return "\(h):\(port)"
    }
}
