import MatrixCore
import ServiceKit
import Storage

/// OpenID: a client asks for a token proving who its user is, to hand to a third party,
/// which checks it with this server over federation (`/openid/userinfo`). That check is
/// not X-Matrix signed: the token itself is the credential.
extension ClientAPI {
    func openIDRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/v3/user/:userId/openid/request_token", rateLimited: true) { [self] req in
            guard try req.param("userId") == req.user.userID else {
                throw MatrixError.forbidden("Cannot request an OpenID token for another user")
            }
            _ = try req.jsonBody()
            let token = try await OpenIDTokenStore(db: db).issue(req.user.userID)
            return .json(["access_token": .string(token), "token_type": "Bearer",
                          "matrix_server_name": .string(serverName.rawValue),
                          "expires_in": .int(OpenIDTokenStore.lifetimeMs / 1000)])
        }
        t.get("/_matrix/federation/v1/openid/userinfo", access: .open) { [self] req in
            guard let token = req.queryValue("access_token"), !token.isEmpty,
                  let user = try await OpenIDTokenStore(db: db).user(token) else {
                throw MatrixError(.unauthorized, "M_UNKNOWN_TOKEN", "Access token unknown or expired")
            }
            return .json(["sub": .string(user)])
        }
        return t
    }
}
