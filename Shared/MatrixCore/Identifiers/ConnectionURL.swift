/// `scheme://[user[:password]@]host[:port][/path][?query][#fragment]`, the shape of the
/// database and Redis URLs in configuration. Parsed by hand: Foundation's URL parsing runs
/// host names through ICU's IDNA tables, which maps megabytes of Unicode data into every
/// process for one line of configuration.
public struct ConnectionURL: Sendable, Hashable {
    public var scheme: String
    /// Nil without userinfo; empty for `://:password@`.
    public var user: String?
    /// Nil when the userinfo has no ":".
    public var password: String?
    /// Without brackets for an IPv6 literal.
    public var host: String
    public var port: Int?
    /// After the first "/", without it; query and fragment dropped.
    public var path: String

    public init(_ string: String) throws(ConnectionURLError) {
        guard let sep = string.firstRange(of: "://") else { throw ConnectionURLError("missing scheme") }
        scheme = String(string[..<sep.lowerBound]).lowercased()
        var rest = string[sep.upperBound...]
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }

        path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }

        // The last "@" ends the credentials, so a password may hold an unencoded "@".
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                user = try Self.percentDecode(userinfo[..<colon])
                password = try Self.percentDecode(userinfo[userinfo.index(after: colon)...])
            } else {
                user = try Self.percentDecode(userinfo)
            }
        }

        var hostText = rest
        var portText: Substring?
        if hostText.hasPrefix("[") {
            guard let close = hostText.firstIndex(of: "]") else { throw ConnectionURLError("unclosed IPv6 bracket") }
            let after = hostText[hostText.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() }
            else if !after.isEmpty { throw ConnectionURLError("junk after IPv6 host") }
            hostText = hostText[hostText.index(after: hostText.startIndex)..<close]
        } else if let colon = hostText.lastIndex(of: ":") {
            portText = hostText[hostText.index(after: colon)...]
            hostText = hostText[..<colon]
        }
        guard !hostText.isEmpty else { throw ConnectionURLError("missing host") }
        host = String(hostText)
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw ConnectionURLError("bad port \(portText)") }
            port = p
        }
    }

    private static func percentDecode(_ text: Substring) throws(ConnectionURLError) -> String {
        guard let s = PercentEncoding.decode(text) else { throw ConnectionURLError("bad percent escape") }
        return s
    }
}

public struct ConnectionURLError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
