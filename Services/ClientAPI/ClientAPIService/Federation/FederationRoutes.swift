import FederationClient
import MatrixCore
import ServiceKit

/// The server-server API (`/_matrix/federation/*`, except media): every route checks the
/// X-Matrix signature first. Endpoints not listed answer 404 `M_UNRECOGNIZED`.
extension ClientAPI {
    func federationRoutes() -> RouteTable {
        var t = FederationRouteTable(authenticator: federationAuth, peerLiveness: peerLiveness)
        federationQueryRoutes(&t)
        federationRoomRoutes(&t)
        federationMembershipRoutes(&t)
        federationTransactionRoutes(&t)
        federationHierarchyRoutes(&t)
        return t.table
    }

    /// A user ID of this server from a request, or the error another server gets.
    func localUser(_ raw: String?) throws -> UserID {
        guard let raw, let user = UserID(raw) else { throw MatrixError.invalidParam("Invalid user ID") }
        guard user.server == serverName else { throw MatrixError.invalidParam("\(raw) is not a user of this server") }
        return user
    }
}
