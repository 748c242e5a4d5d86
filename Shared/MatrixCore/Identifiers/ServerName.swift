/// A homeserver's name: `hostname[:port]`, where hostname is a DNS name, a dotted-quad
/// IPv4 literal or a bracketed IPv6 literal (spec appendix "Server Name").
/// Compared case-sensitively, as the spec requires.
public struct ServerName: ParsedIdentifier {
    public enum HostKind: Sendable, Hashable {
        case dnsName
        case ipv4
        case ipv6
    }

    /// The full server name exactly as given, e.g. `[1234:5678::abcd]:5678`.
    public let rawValue: String
    /// The host without brackets and port, e.g. `1234:5678::abcd` or `matrix.org`.
    public let host: String
    public let kind: HostKind
    /// The explicit port, if any.
    public let port: Int?

    private init(rawValue: String, host: String, kind: HostKind, port: Int?) {
        self.rawValue = rawValue
        self.host = host
        self.kind = kind
        self.port = port
    }

    /// The host as it appears in a URL authority or Host header: IPv6 keeps its brackets.
    public var hostLiteral: String { kind == .ipv6 ? "[\(host)]" : host }

    public var isIPLiteral: Bool { kind != .dnsName }

    public static func parse(_ string: String) throws(IdentifierError) -> ServerName {
        let bytes = Array(string.utf8)
        let hostBytes: ArraySlice<UInt8>
        let portBytes: ArraySlice<UInt8>?
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { throw .invalidServerName(string) }
            hostBytes = bytes[1..<close]
            let rest = bytes[(close + 1)...]
            if rest.isEmpty {
                portBytes = nil
            } else if rest.first == UInt8(ascii: ":") {
                portBytes = rest.dropFirst()
            } else {
                throw .invalidServerName(string)
            }
            guard IPAddressGrammar.isIPv6(hostBytes) else { throw .invalidServerName(string) }
        } else {
            // DNS names and IPv4 literals never contain ':', so the first one starts the port.
            if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
                hostBytes = bytes[..<colon]
                portBytes = bytes[(colon + 1)...]
            } else {
                hostBytes = bytes[...]
                portBytes = nil
            }
        }

        let kind: HostKind
        if bytes.first == UInt8(ascii: "[") {
            kind = .ipv6
        } else if IPAddressGrammar.looksLikeDottedQuad(hostBytes) {
            // Four numeric labels are an IPv4 literal, so each must be 0–255.
            guard IPAddressGrammar.isIPv4(hostBytes) else { throw .invalidServerName(string) }
            kind = .ipv4
        } else {
            guard isDNSName(hostBytes) else { throw .invalidServerName(string) }
            kind = .dnsName
        }

        var port: Int?
        if let portBytes {
            guard let value = parsePort(portBytes) else { throw .invalidPort(String(decoding: portBytes, as: UTF8.self)) }
            port = value
        }
        return ServerName(rawValue: string, host: String(decoding: hostBytes, as: UTF8.self), kind: kind, port: port)
    }

    /// `dns-name = 1*255dns-char`, `dns-char = DIGIT / ALPHA / "-" / "."`. Label shape is only
    /// a recommendation in the spec, and real servers rely on that leniency.
    private static func isDNSName(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 255 else { return false }
        return bytes.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
        }
    }

    /// `port = 1*5DIGIT`, and a usable TCP port: 1–65535.
    private static func parsePort(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard (1...5).contains(bytes.count), bytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let value = bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return (1...65535).contains(value) ? value : nil
    }
}
