import Foundation
import MatrixCore

/// Checks the X-Matrix signature of an inbound request: the header parses, it is meant for
/// us, and the origin's current key signed method, target, origin, destination and body.
public struct RequestAuthenticator: Sendable {
    public let serverName: ServerName
    let keys: ServerKeyRing

    public init(serverName: ServerName, keys: ServerKeyRing) {
        self.serverName = serverName
        self.keys = keys
    }

    /// The authenticated origin. `uri` is the request target exactly as received;
    /// `content` the parsed body (nil when there was none).
    public func authenticate(authorization: [String], method: String, uri: String,
                             content: JSON?) async throws(RequestAuthError) -> ServerName {
        // Several signatures may be sent (one per key); one valid one is enough.
        let headers = authorization.filter { $0.lowercased().hasPrefix("x-matrix") }
        guard !headers.isEmpty else { throw .missing }
        var lastError = RequestAuthError.missing
        for header in headers {
            do {
                return try await check(header, method: method, uri: uri, content: content)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private func check(_ header: String, method: String, uri: String, content: JSON?) async throws(RequestAuthError) -> ServerName {
        let auth: XMatrixAuthorization
        do { auth = try XMatrixAuthorization.parse(header) } catch { throw .malformed(error.description) }
        guard let origin = ServerName(auth.origin) else { throw .malformed("origin \(auth.origin) is not a server name") }
        if let destination = auth.destination, destination != serverName.rawValue {
            throw .wrongDestination(destination)
        }
        guard origin != serverName else { throw .unverified("requests from our own name are not accepted") }
        guard auth.keyID.hasPrefix(SigningKey.algorithm + ":") else { throw .unverified("unsupported key \(auth.keyID)") }
        let key: VerifyKey
        do {
            key = try await keys.verifyKey(server: origin, keyID: auth.keyID, validAt: Int64(Date().timeIntervalSince1970 * 1000))
        } catch {
            throw .unverified(error.description)
        }
        let request = SignedRequest(method: method, uri: uri, origin: origin.rawValue, destination: serverName.rawValue,
                                    content: content)
        guard request.isSigned(auth.signature, by: key) else { throw .badSignature }
        return origin
    }
}

public enum RequestAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    case missing
    case malformed(String)
    case wrongDestination(String)
    case unverified(String)
    case badSignature

    public var description: String {
        switch self {
        case .missing: return "Missing X-Matrix Authorization header"
        case .malformed(let m): return m
        case .wrongDestination(let d): return "Request is for \(d), not this server"
        case .unverified(let m): return "Could not verify the request signature: \(m)"
        case .badSignature: return "Invalid X-Matrix signature"
        }
    }
}
