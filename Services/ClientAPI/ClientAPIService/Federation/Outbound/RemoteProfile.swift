import FederationClient
import MatrixCore
import ServiceKit

/// Profiles and room aliases of other servers, looked up over federation.
extension ClientAPI {
    /// A remote user's profile (one field when `field` is given), as their server tells it.
    func remoteProfile(_ user: UserID, field: String?) async throws -> [String: JSON] {
        var query = [("user_id", user.rawValue)]
        if let field { query.append(("field", field)) }
        do {
            let answer = try await federation.get(user.server, FederationPath.target("/_matrix/federation/v1/query/profile", query: query),
                                                  timeout: .seconds(10))
            var out: [String: JSON] = [:]
            for k in ["displayname", "avatar_url"] where field == nil || field == k {
                if let v = answer[k]?.stringValue { out[k] = .string(v) }
            }
            return out
        } catch {
            throw Self.remoteError(error, notFound: "Profile not found")
        }
    }

    /// A remote alias's room and resident servers.
    func remoteAlias(_ alias: RoomAlias) async throws -> JSON {
        do {
            let answer = try await federation.get(alias.server, FederationPath.target(
                "/_matrix/federation/v1/query/directory", query: [("room_alias", alias.rawValue)]), timeout: .seconds(10))
            guard let roomID = answer["room_id"]?.stringValue, RoomID(roomID) != nil else {
                throw MatrixError(.badGateway, "M_UNKNOWN", "\(alias.server.rawValue) gave no usable room ID")
            }
            let servers = (answer["servers"]?.arrayValue ?? []).compactMap(\.stringValue).filter { ServerName($0) != nil }
            return ["room_id": .string(roomID), "servers": JSON(servers.isEmpty ? [alias.server.rawValue] : servers)]
        } catch let e as FederationError {
            throw Self.remoteError(e, notFound: "Room alias \(alias.rawValue) not found.")
        }
    }

    /// Another server's public room directory, as it lists it (GET with `query`, or POST of
    /// a search `body`). Only the fields of a directory page are passed on.
    func remotePublicRooms(_ server: ServerName, body: JSON?, query: [(String, String)]) async throws -> JSON {
        let uri = FederationPath.target("/_matrix/federation/v1/publicRooms", query: query)
        let answer: JSON
        do {
            if let body {
                answer = try await federation.post(server, uri, body: body, timeout: .seconds(20))
            } else {
                answer = try await federation.get(server, uri, timeout: .seconds(20))
            }
        } catch {
            throw Self.remoteError(error, notFound: "\(server.rawValue) has no public room directory")
        }
        guard let chunk = answer["chunk"]?.arrayValue else {
            throw MatrixError(.badGateway, "M_UNKNOWN", "\(server.rawValue) sent no room list")
        }
        var out: [String: JSON] = ["chunk": .array(chunk.filter { $0["room_id"]?.stringValue != nil })]
        for k in ["next_batch", "prev_batch"] { if let v = answer[k]?.stringValue { out[k] = .string(v) } }
        if let n = answer["total_room_count_estimate"]?.intValue { out["total_room_count_estimate"] = .int(n) }
        return .object(out)
    }

    /// A remote 404 stays a 404; anything else the remote side did wrong is a 502.
    static func remoteError(_ error: FederationError, notFound: String) -> MatrixError {
        switch error {
        case .http(404, _): return MatrixError.notFound(notFound)
        case .http(403, _): return MatrixError.forbidden("The remote server refused the request")
        default: return MatrixError(.badGateway, "M_UNKNOWN", "The remote server could not be asked: \(error.description)")
        }
    }
}
