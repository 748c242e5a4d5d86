import MatrixCore

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
        let url: ConnectionURL
        do { url = try ConnectionURL(string) } catch { throw .invalidURL(error.description) }
        var username = url.user, password = url.password
        // A lone userinfo is a password, as most Redis clients read it.
        if password == nil, let lone = username { (username, password) = (nil, lone.isEmpty ? nil : lone) }
        if username?.isEmpty == true { username = nil }
        var database = 0
        if !url.path.isEmpty {
            guard let db = Int(url.path), db >= 0 else { throw .invalidURL("bad database \(url.path)") }
            database = db
        }
        self.init(host: url.host, port: url.port ?? 6379, username: username, password: password, database: database)
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
}
