import MatrixCore
import ServiceKit
import Storage

/// User directory search over local users the searcher can see through their rooms.
extension ClientAPI {
    func userDirectoryRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/v3/user_directory/search", rateLimited: true) { [self] req in
            let body = try req.jsonBody()
            guard let term = try body.string("search_term") else { throw MatrixError.missingParam("Missing search_term") }
            let limit = try body.int("limit") ?? 10
            guard limit >= 0 else { throw MatrixError.invalidParam("limit must not be negative") }
            let found = try await directory.searchUsers(term, searcher: req.user.userID, limit: Int(min(limit, 1000)))
            let results: [JSON] = found.users.map { u in
                var o: [String: JSON] = ["user_id": .string(u.userID)]
                if let d = u.displayname { o["display_name"] = .string(d) }
                if let a = u.avatarURL { o["avatar_url"] = .string(a) }
                return .object(o)
            }
            return .json(["results": .array(results), "limited": .bool(found.limited)])
        }
        return t
    }
}
