import HTTPTypes
import MatrixCore

/// A Matrix error response: `{"errcode": …, "error": …}` with its HTTP status.
public struct MatrixError: Error, Sendable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let errcode: String
    public let message: String
    public var extra: [String: JSON]

    public init(_ status: HTTPResponse.Status, _ errcode: String, _ message: String, extra: [String: JSON] = [:]) {
        self.status = status
        self.errcode = errcode
        self.message = message
        self.extra = extra
    }

    public var description: String { "\(status.code) \(errcode): \(message)" }

    /// A body other than `{errcode, error}`: user-interactive auth challenges.
    public var rawBody: JSON?

    public var body: JSON {
        if let rawBody { return rawBody }
        var o = extra
        o["errcode"] = .string(errcode)
        o["error"] = .string(message)
        return .object(o)
    }

    public static func unrecognized(_ m: String = "Unrecognized request") -> MatrixError { .init(.notFound, "M_UNRECOGNIZED", m) }
    public static func methodNotAllowed() -> MatrixError { .init(.methodNotAllowed, "M_UNRECOGNIZED", "Method not allowed") }
    public static func notJSON(_ m: String = "Content not JSON.") -> MatrixError { .init(.badRequest, "M_NOT_JSON", m) }
    public static func badJSON(_ m: String) -> MatrixError { .init(.badRequest, "M_BAD_JSON", m) }
    public static func invalidParam(_ m: String) -> MatrixError { .init(.badRequest, "M_INVALID_PARAM", m) }
    public static func missingParam(_ m: String) -> MatrixError { .init(.badRequest, "M_MISSING_PARAM", m) }
    public static func tooLarge(_ m: String = "Request body too large") -> MatrixError { .init(.contentTooLarge, "M_TOO_LARGE", m) }
    public static func missingToken() -> MatrixError { .init(.unauthorized, "M_MISSING_TOKEN", "Missing access token") }
    public static func unknownToken() -> MatrixError {
        .init(.unauthorized, "M_UNKNOWN_TOKEN", "Unknown access token", extra: ["soft_logout": false])
    }
    public static func forbidden(_ m: String) -> MatrixError { .init(.forbidden, "M_FORBIDDEN", m) }
    public static func notFound(_ m: String) -> MatrixError { .init(.notFound, "M_NOT_FOUND", m) }
    public static func unknown(_ m: String) -> MatrixError { .init(.internalServerError, "M_UNKNOWN", m) }
    public static func limitExceeded(retryAfterMs: Int64) -> MatrixError {
        .init(.tooManyRequests, "M_LIMIT_EXCEEDED", "Too many requests", extra: ["retry_after_ms": .int(retryAfterMs)])
    }
}
