import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MatrixCore
import Metrics
import NIOCore
import Storage

/// Request context carrying the peer address (for per-IP rate limits).
public struct MatrixContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteIP: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteIP = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// The one responder of every service: CORS, body limits, routing with 404/405 as
/// Matrix errors, authentication, rate limits, and conversion of any error into a Matrix
/// error response. Nothing a client sends can make it crash the process.
public struct MatrixResponder: HTTPResponder {
    public typealias Context = MatrixContext

    let routes: RouteTable
    let tokens: AccountStore?
    let limiter: RateLimiter
    let maxBodyBytes: Int
    let logger: Logger

    public init(routes: RouteTable, tokens: AccountStore?, limiter: RateLimiter, maxBodyBytes: Int, logger: Logger) {
        self.routes = routes
        self.tokens = tokens
        self.limiter = limiter
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
    }

    static let corsHeaders: [(HTTPField.Name, String)] = [
        (.accessControlAllowOrigin, "*"),
        (.accessControlAllowMethods, "GET, HEAD, POST, PUT, DELETE, OPTIONS"),
        (.accessControlAllowHeaders, "X-Requested-With, Content-Type, Authorization, Date"),
        (.accessControlExposeHeaders, "ETag"),
    ]

    public func respond(to request: Request, context: MatrixContext) async throws -> Response {
        let path = request.uri.path
        if request.method == .options {
            return Self.build(MatrixResponse.empty)
        }
        let start = ContinuousClock.now
        let response: MatrixResponse
        do {
            response = try await handle(request, context: context, path: path)
        } catch let e as MatrixError {
            response = .json(e.body, status: e.status)
        } catch {
            logger.error("unhandled error on \(request.method) \(path): \(String(reflecting: error))")
            response = .json(MatrixError.unknown("Internal server error").body, status: .internalServerError)
        }
        Self.record(request.method, response.status, since: start)
        return Self.build(response)
    }

    /// Request counts by method and status class, and latency; paths are left out so the
    /// number of series stays bounded whatever clients send.
    static func record(_ method: HTTPRequest.Method, _ status: HTTPResponse.Status, since start: ContinuousClock.Instant) {
        let dims = [("method", method.rawValue), ("status", "\(status.code / 100)xx")]
        Counter(label: "myelin_http_requests_total", dimensions: dims).increment()
        let elapsed = ContinuousClock.now - start
        let nanos = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        Metrics.Timer(label: "myelin_http_request_duration_seconds", dimensions: dims).recordNanoseconds(nanos)
    }

    private func handle(_ request: Request, context: MatrixContext, path: String) async throws -> MatrixResponse {
        let (handler, params, access, rateLimited): (RouteTable.Handler, [String: String], RouteTable.Access, Bool)
        switch routes.match(method: request.method, path: path) {
        case .none: throw MatrixError.unrecognized()
        case .wrongMethod: throw MatrixError.methodNotAllowed()
        case .found(let h, let p, let a, let r): (handler, params, access, rateLimited) = (h, p, a, r)
        }
        if let len = request.headers[.contentLength].flatMap(Int.init), len > maxBodyBytes { throw MatrixError.tooLarge() }
        var request = request
        let body: [UInt8]
        do {
            let buf = try await request.collectBody(upTo: maxBodyBytes)
            body = Array(buf.readableBytesView)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw MatrixError.tooLarge()
        }
        let query = Self.parseQuery(request.uri.query)
        var auth: TokenOwner?
        if access != .open {
            if let token = Self.accessToken(request.headers, query) {
                guard let tokens, let owner = try await tokens.tokenOwner(token) else { throw MatrixError.unknownToken() }
                auth = owner
            } else if access == .user {
                throw MatrixError.missingToken()
            }
        }
        if rateLimited {
            let key = auth.map { "u:" + $0.userID } ?? "ip:" + context.remoteIP
            if let retry = await limiter.take(key) { throw MatrixError.limitExceeded(retryAfterMs: retry) }
        }
        let req = MatrixRequest(method: request.method, path: path, params: params, query: query,
                                headers: request.headers, rawBody: body, remoteIP: context.remoteIP, auth: auth,
                                uri: request.uri.string)
        return try await handler(req)
    }

    static func accessToken(_ headers: HTTPFields, _ query: [String: [String]]) -> String? {
        if let h = headers[.authorization] {
            let parts = h.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { return String(parts[1]) }
        }
        return query["access_token"]?.first
    }

    static func parseQuery(_ q: String?) -> [String: [String]] {
        guard let q, !q.isEmpty else { return [:] }
        var out: [String: [String]] = [:]
        for pair in q.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            // A malformed escape leaves the value as it came (with "+" still a space).
            func dec(_ s: Substring) -> String {
                PercentEncoding.decode(s, plusAsSpace: true) ?? s.replacingOccurrences(of: "+", with: " ")
            }
            let k = dec(kv[0])
            out[k, default: []].append(kv.count > 1 ? dec(kv[1]) : "")
        }
        return out
    }

    static func build(_ r: MatrixResponse) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = r.contentType
        for (n, v) in corsHeaders { headers[n] = v }
        for (n, v) in r.headers { headers[n] = v }
        return Response(status: r.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: r.body)))
    }
}
