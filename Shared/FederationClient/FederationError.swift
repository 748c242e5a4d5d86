import MatrixCore

/// Why a request to another server gave no usable answer.
public enum FederationError: Error, Sendable, CustomStringConvertible {
    /// Not a server name, or our own.
    case invalidDestination(String)
    /// The peer failed recently and is not tried again yet.
    case backingOff(destination: String, retryAfterMs: Int64)
    /// No connection, TLS failure or timeout.
    case unreachable(destination: String, reason: String)
    /// The peer answered with an error status; `body` is its JSON when it sent some.
    case http(status: Int, body: JSON?)
    /// The peer answered 2xx with something that is not what was asked for.
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .invalidDestination(let d): return "invalid destination \(d)"
        case .backingOff(let d, let ms): return "\(d) failed recently; retrying in \(ms) ms"
        case .unreachable(let d, let r): return "\(d) unreachable: \(r)"
        case .http(let s, let b): return "peer answered \(s) \(b?["errcode"]?.stringValue ?? "")"
        case .invalidResponse(let m): return "invalid response: \(m)"
        }
    }

    /// The remote Matrix error code, when the peer sent one.
    public var errcode: String? {
        if case .http(_, let body) = self { return body?["errcode"]?.stringValue }
        return nil
    }
}
