import Foundation
import HTTPTypes
import MatrixCore
import Storage

/// What a handler sees: method, path parameters, query, headers, the parsed body and the
/// authenticated user (when the route needs one).
public struct MatrixRequest: Sendable {
    public let method: HTTPRequest.Method
    public let path: String
    /// The request target exactly as received (path and query, still percent-encoded):
    /// what an X-Matrix signature covers.
    public let uri: String
    public let params: [String: String]
    public let query: [String: [String]]
    public let headers: HTTPFields
    public let rawBody: [UInt8]
    public let remoteIP: String
    public var auth: TokenOwner?

    public init(method: HTTPRequest.Method, path: String, params: [String: String], query: [String: [String]],
                headers: HTTPFields, rawBody: [UInt8], remoteIP: String, auth: TokenOwner?, uri: String? = nil) {
        self.method = method
        self.path = path
        self.uri = uri ?? path
        self.params = params
        self.query = query
        self.headers = headers
        self.rawBody = rawBody
        self.remoteIP = remoteIP
        self.auth = auth
    }

    /// The authenticated user; routes registered with auth always have one.
    public var user: TokenOwner {
        guard let auth else { preconditionFailure("route registered without authentication") }
        return auth
    }

    public func param(_ name: String) throws -> String {
        guard let v = params[name] else { throw MatrixError.missingParam("missing path parameter \(name)") }
        return v
    }

    public func queryValue(_ name: String) -> String? { query[name]?.first }

    public func queryInt(_ name: String) throws -> Int? {
        guard let s = queryValue(name) else { return nil }
        guard let v = Int(s) else { throw MatrixError.invalidParam("\(name) must be an integer") }
        return v
    }

    public func queryBool(_ name: String) -> Bool? {
        guard let s = queryValue(name) else { return nil }
        return s == "true" || s == "1"
    }

    /// The body as a JSON object. Empty bodies count as `{}`; anything that is not JSON is
    /// `M_NOT_JSON` and JSON that is not an object is `M_BAD_JSON`.
    public func jsonBody() throws -> [String: JSON] {
        if rawBody.isEmpty { return [:] }
        let parsed: JSON
        do { parsed = try JSON.parse(rawBody) } catch { throw MatrixError.notJSON("Content not JSON: \(error)") }
        guard case .object(let o) = parsed else { throw MatrixError.badJSON("Body must be a JSON object") }
        return o
    }

    public func json() throws -> JSON { .object(try jsonBody()) }
}

/// Typed access to request fields with Matrix errors on wrong shapes.
extension Dictionary where Key == String, Value == JSON {
    public func string(_ k: String) throws -> String? {
        guard let v = self[k], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw MatrixError.badJSON("\(k) must be a string") }
        return s
    }
    public func requiredString(_ k: String) throws -> String {
        guard let s = try string(k) else { throw MatrixError.badJSON("missing \(k)") }
        return s
    }
    public func bool(_ k: String) throws -> Bool? {
        guard let v = self[k], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw MatrixError.badJSON("\(k) must be a boolean") }
        return b
    }
    public func int(_ k: String) throws -> Int64? {
        guard let v = self[k], !v.isNull else { return nil }
        guard let i = v.intValue else { throw MatrixError.badJSON("\(k) must be an integer") }
        return i
    }
    public func object(_ k: String) throws -> [String: JSON]? {
        guard let v = self[k], !v.isNull else { return nil }
        guard let o = v.objectValue else { throw MatrixError.badJSON("\(k) must be an object") }
        return o
    }
    public func array(_ k: String) throws -> [JSON]? {
        guard let v = self[k], !v.isNull else { return nil }
        guard let a = v.arrayValue else { throw MatrixError.badJSON("\(k) must be an array") }
        return a
    }
    public func stringArray(_ k: String) throws -> [String]? {
        guard let a = try array(k) else { return nil }
        return try a.map { guard let s = $0.stringValue else { throw MatrixError.badJSON("\(k) must hold strings") }; return s }
    }
}
