import Foundation
import MatrixCore

/// Resolves server names as the spec's "Resolving server names" lays out: IP literals and
/// explicit ports directly, then `/.well-known/matrix/server` delegation, then SRV records
/// (`_matrix-fed._tcp`, then the deprecated `_matrix._tcp`), then port 8448.
public final class ServerResolver: Sendable {
    public static let defaultPort = 8448

    private let wellKnown: WellKnownResolver
    private let srv: SRVResolver

    init(wellKnown: WellKnownResolver, srv: SRVResolver) {
        self.wellKnown = wellKnown
        self.srv = srv
    }

    public func resolve(_ server: ServerName) async -> ResolvedDestination {
        // 1. IP literal.
        if server.isIPLiteral {
            return ResolvedDestination(host: server.host, port: server.port ?? Self.defaultPort,
                                       hostHeader: server.rawValue, tlsName: nil)
        }
        // 2. Hostname with an explicit port.
        if let port = server.port {
            return ResolvedDestination(host: server.host, port: port, hostHeader: server.rawValue, tlsName: server.host)
        }
        // 3. Delegation through .well-known.
        if let delegated = await wellKnown.delegated(server.host) {
            if delegated.isIPLiteral {
                return ResolvedDestination(host: delegated.host, port: delegated.port ?? Self.defaultPort,
                                           hostHeader: delegated.rawValue, tlsName: nil)
            }
            if let port = delegated.port {
                return ResolvedDestination(host: delegated.host, port: port, hostHeader: delegated.rawValue,
                                           tlsName: delegated.host)
            }
            return await bySRV(delegated.host)
        }
        // 4–6. SRV on the server's own hostname, then port 8448.
        return await bySRV(server.host)
    }

    /// SRV records for `hostname`, or the hostname itself on port 8448. The certificate and
    /// Host header name `hostname` either way: DNS alone cannot prove a delegation.
    private func bySRV(_ hostname: String) async -> ResolvedDestination {
        for service in ["_matrix-fed._tcp.", "_matrix._tcp."] {
            if let record = await srv.lookup(service + hostname).first {
                return ResolvedDestination(host: record.target, port: Int(record.port), hostHeader: hostname, tlsName: hostname)
            }
        }
        return ResolvedDestination(host: hostname, port: Self.defaultPort, hostHeader: hostname, tlsName: hostname)
    }
}
