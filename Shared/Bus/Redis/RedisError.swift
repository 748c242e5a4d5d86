/// Failures of the Redis layer. I/O failures drop the connection; the next
/// command on it reconnects.
public enum RedisError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The URL could not be parsed.
    case invalidURL(String)
    /// TCP connect, AUTH or SELECT failed.
    case connectFailed(String)
    /// The connection broke mid-command (closed, reset, timed out).
    case connectionLost(String)
    /// The server answered with an error reply, e.g. `BUSYGROUP …` or `NOGROUP …`.
    case server(String)
    /// The reply did not have the shape the command promises.
    case unexpectedReply(String)
    /// The connection was cancelled on purpose and will not reconnect.
    case cancelled

    public var description: String {
        switch self {
        case .invalidURL(let m): return "invalid Redis URL: \(m)"
        case .connectFailed(let m): return "Redis connect failed: \(m)"
        case .connectionLost(let m): return "Redis connection lost: \(m)"
        case .server(let m): return "Redis error reply: \(m)"
        case .unexpectedReply(let m): return "unexpected Redis reply: \(m)"
        case .cancelled: return "Redis connection cancelled"
        }
    }

    /// True for an error reply whose code (first word) is `code`, e.g. "BUSYGROUP".
    public func isServerError(_ code: String) -> Bool {
        if case .server(let message) = self {
            return message == code || message.hasPrefix(code + " ")
        }
        return false
    }
}
