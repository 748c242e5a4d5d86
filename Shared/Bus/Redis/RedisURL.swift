/// `redis://[[username]:password@]host[:port][/db]`. TLS (`rediss://`) is not
/// supported by the client library in use, so it is rejected rather than ignored.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int

    public init(host: String = "127.0.0.1", port: Int = 6379,
                username: String? = nil, password: String? = nil, database: Int = 0) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
    }

    public init(_ string: String) throws(RedisError) {
        guard string.hasPrefix("redis://") else {
            throw .invalidURL("expected redis://, got \(Self.redact(string))")
        }
        var rest = Substring(string.dropFirst("redis://".count))
        // Query and fragment carry nothing we use.
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }

        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }

        var username: String?
        var password: String?
        // The last "@" separates credentials, so a password may contain "@" unencoded.
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = userinfo[..<colon]
                username = user.isEmpty ? nil : try Self.percentDecode(user)
                password = try Self.percentDecode(userinfo[userinfo.index(after: colon)...])
            } else if !userinfo.isEmpty {
                // A lone userinfo is a password, as most Redis clients read it.
                password = try Self.percentDecode(userinfo)
            }
        }

        var host = rest
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw .invalidURL("unclosed IPv6 bracket") }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() }
            else if !after.isEmpty { throw .invalidURL("junk after IPv6 host") }
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        guard !host.isEmpty else { throw .invalidURL("missing host") }

        var port = 6379
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw .invalidURL("bad port \(portText)")
            }
            port = p
        }

        var database = 0
        if !path.isEmpty {
            guard let db = Int(path), db >= 0 else { throw .invalidURL("bad database \(path)") }
            database = db
        }

        self.init(host: String(host), port: port, username: username, password: password, database: database)
    }

    /// Never prints the password, so URLs can go into logs.
    public var description: String {
        var s = "redis://"
        if username != nil || password != nil {
            s += (username ?? "") + (password != nil ? ":***" : "") + "@"
        }
        s += host.contains(":") ? "[\(host)]" : host
        s += ":\(port)"
        if database != 0 { s += "/\(database)" }
        return s
    }

    private static func redact(_ string: String) -> String {
        guard let at = string.lastIndex(of: "@") else { return string }
        return "***" + string[at...]
    }

    private static func percentDecode(_ text: Substring) throws(RedisError) -> String {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let b = bytes.popFirst() {
            guard b == UInt8(ascii: "%") else { out.append(b); continue }
            guard bytes.count >= 2,
                  let hi = hexValue(bytes[bytes.startIndex]),
                  let lo = hexValue(bytes[bytes.startIndex + 1]) else {
                throw .invalidURL("bad percent escape")
            }
            out.append(hi << 4 | lo)
            bytes = bytes.dropFirst(2)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
