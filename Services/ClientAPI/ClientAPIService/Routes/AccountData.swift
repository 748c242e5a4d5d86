import MatrixCore
import ServiceKit
import Storage

/// Global and per-room account data.
extension ClientAPI {
    func accountDataRoutes() -> RouteTable {
        var t = RouteTable()
        for room in [false, true] {
            let path = room ? "/_matrix/client/v3/user/:userId/rooms/:roomId/account_data/:type"
                            : "/_matrix/client/v3/user/:userId/account_data/:type"
            t.put(path) { [self] req in
                guard try req.param("userId") == req.user.userID else { throw MatrixError.forbidden("Cannot set account data for other users") }
                let type = try req.param("type")
                if type == "m.fully_read" || type == "m.push_rules" {
                    throw MatrixError(.badRequest, "M_BAD_JSON", "\(type) cannot be set through this API")
                }
                let roomID = room ? try req.param("roomId") : ""
                if room, RoomID(roomID) == nil { throw MatrixError.invalidParam("Invalid room ID") }
                let pos = try await userData.setAccountData(req.user.userID, roomID: roomID, type: type, content: try req.json().canonicalString)
                announce(StreamNotice(pos: pos, users: [req.user.userID]))
                return .empty
            }
            t.get(path) { [self] req in
                guard try req.param("userId") == req.user.userID else { throw MatrixError.forbidden("Cannot read account data of other users") }
                let roomID = room ? try req.param("roomId") : ""
                let type = try req.param("type")
                // Push rules always exist: the server defaults until the user changes one.
                if !room, type == PushRuleStore.accountDataType {
                    return .json(try await pushRulesAccountDataEvent(req.user.userID)["content"] ?? [:])
                }
                guard let c = try await userData.accountData(req.user.userID, roomID: roomID, type: type) else {
                    throw MatrixError.notFound("Account data not found")
                }
                return .json(try JSON.parse(c))
            }
        }
        return t
    }
}
