import HTTPTypes
import MatrixCore

/// Routes by path pattern (`/_matrix/client/v3/rooms/:roomId/send/:type/:txnId`) and method.
/// Kept here rather than in the framework router so an unknown method on a known path can
/// answer 405 and path parameters are percent-decoded exactly once.
public struct RouteTable: Sendable {
    public typealias Handler = @Sendable (MatrixRequest) async throws -> MatrixResponse

    public enum Access: Sendable { case open, user, optionalUser }

    struct Route: Sendable {
        let method: HTTPRequest.Method
        let segments: [Segment]
        let access: Access
        let rateLimited: Bool
        let handler: Handler
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case param(String)
        case rest(String)
    }

    private var bySegmentCount: [Int: [Route]] = [:]
    private var restRoutes: [Route] = []

    public init() {}

    public mutating func add(_ method: HTTPRequest.Method, _ pattern: String, access: Access = .user,
                             rateLimited: Bool = false, _ handler: @escaping Handler) {
        let segs: [Segment] = pattern.split(separator: "/").map { s in
            if s.hasPrefix(":") { return .param(String(s.dropFirst())) }
            if s.hasPrefix("*") { return .rest(String(s.dropFirst())) }
            return .literal(String(s))
        }
        let r = Route(method: method, segments: segs, access: access, rateLimited: rateLimited, handler: handler)
        if case .rest = segs.last { restRoutes.append(r) } else { bySegmentCount[segs.count, default: []].append(r) }
    }

    public mutating func get(_ p: String, access: Access = .user, rateLimited: Bool = false, _ h: @escaping Handler) {
        add(.get, p, access: access, rateLimited: rateLimited, h)
    }
    public mutating func post(_ p: String, access: Access = .user, rateLimited: Bool = false, _ h: @escaping Handler) {
        add(.post, p, access: access, rateLimited: rateLimited, h)
    }
    public mutating func put(_ p: String, access: Access = .user, rateLimited: Bool = false, _ h: @escaping Handler) {
        add(.put, p, access: access, rateLimited: rateLimited, h)
    }
    public mutating func delete(_ p: String, access: Access = .user, rateLimited: Bool = false, _ h: @escaping Handler) {
        add(.delete, p, access: access, rateLimited: rateLimited, h)
    }

    /// Adds every route of another table (service route groups compose this way).
    public mutating func merge(_ other: RouteTable) {
        for (k, v) in other.bySegmentCount { bySegmentCount[k, default: []].append(contentsOf: v) }
        restRoutes.append(contentsOf: other.restRoutes)
    }

    public enum Match: Sendable {
        case found(Handler, params: [String: String], access: Access, rateLimited: Bool)
        case wrongMethod
        case none
    }

    public func match(method: HTTPRequest.Method, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var pathMatched = false
        let candidates = (bySegmentCount[parts.count] ?? []) + restRoutes
        for r in candidates {
            guard let params = Self.bind(r.segments, parts) else { continue }
            pathMatched = true
            if r.method == method || (method == .head && r.method == .get) {
                return .found(r.handler, params: params, access: r.access, rateLimited: r.rateLimited)
            }
        }
        return pathMatched ? .wrongMethod : .none
    }

    static func bind(_ segs: [Segment], _ parts: [Substring]) -> [String: String]? {
        var params: [String: String] = [:]
        for (i, s) in segs.enumerated() {
            switch s {
            case .literal(let l):
                guard i < parts.count, parts[i] == l else { return nil }
            case .param(let name):
                guard i < parts.count else { return nil }
                params[name] = PercentEncoding.decode(parts[i]) ?? String(parts[i])
            case .rest(let name):
                guard i <= parts.count else { return nil }
                params[name] = parts[i...].map { PercentEncoding.decode($0) ?? String($0) }.joined(separator: "/")
                return params
            }
        }
        return segs.count == parts.count ? params : nil
    }
}
