import FederationClient
import HTTPTypes
import MatrixCore
import ServiceKit

/// Routes of the server-server API: a handler runs only once the request's X-Matrix
/// signature checked out, and it is told which server sent it.
struct FederationRouteTable {
    typealias Handler = @Sendable (MatrixRequest, ServerName) async throws -> MatrixResponse

    private(set) var table = RouteTable()
    let authenticator: RequestAuthenticator
    let peerLiveness: PeerLiveness

    init(authenticator: RequestAuthenticator, peerLiveness: PeerLiveness) {
        self.authenticator = authenticator
        self.peerLiveness = peerLiveness
    }

    mutating func get(_ path: String, _ handler: @escaping Handler) { add(.get, path, handler) }
    mutating func post(_ path: String, _ handler: @escaping Handler) { add(.post, path, handler) }
    mutating func put(_ path: String, _ handler: @escaping Handler) { add(.put, path, handler) }

    private mutating func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        let authenticator = self.authenticator, peerLiveness = self.peerLiveness
        table.add(method, path, access: .open) { req in
            let origin = try await Self.authenticate(req, authenticator)
            peerLiveness.heardFrom(origin)
            return try await handler(req, origin)
        }
    }

    /// The origin of a signed request, or the Matrix error saying why it is refused.
    static func authenticate(_ req: MatrixRequest, _ authenticator: RequestAuthenticator) async throws -> ServerName {
        // The signature covers the parsed body, so a body that is not a JSON object fails first.
        // (Not a ternary: a bare nil there would become JSON's own null.)
        var content: JSON?
        if !req.rawBody.isEmpty { content = try req.json() }
        do {
            return try await authenticator.authenticate(authorization: req.headers[values: .authorization],
                                                        method: req.method.rawValue, uri: req.uri, content: content)
        } catch {
            switch error {
            case .malformed(let m): throw MatrixError(.badRequest, "M_UNAUTHORIZED", m)
            default: throw MatrixError(.unauthorized, "M_UNAUTHORIZED", error.description)
            }
        }
    }
}
