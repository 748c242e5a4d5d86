import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// join, leave, invite, kick, ban, unban, knock, forget, members.
extension ClientAPI {
    func membershipRoutes() -> RouteTable {
        var t = RouteTable()
        let join: RouteTable.Handler = { [self] req in
            let target = try req.params["roomIdOrAlias"] ?? req.param("roomId")
            let body = try req.jsonBody()
            let via = (req.query["server_name"] ?? []) + (req.query["via"] ?? [])
            let roomID = try await joinRoom(target, user: req.user.userID, via: via, reason: try body.string("reason"))
            return .json(["room_id": .string(roomID)])
        }
        t.post("/_matrix/client/v3/join/:roomIdOrAlias", rateLimited: true, join)
        t.post("/_matrix/client/v3/rooms/:roomId/join", rateLimited: true, join)
        t.post("/_matrix/client/v3/knock/:roomIdOrAlias", rateLimited: true) { [self] req in
            let via = (req.query["server_name"] ?? []) + (req.query["via"] ?? [])
            let roomID = try await knockRoom(try req.param("roomIdOrAlias"), user: req.user.userID, via: via,
                                             reason: try req.jsonBody().string("reason"))
            return .json(["room_id": .string(roomID)])
        }
        t.post("/_matrix/client/v3/rooms/:roomId/leave", rateLimited: true) { [self] req in
            let roomID = try req.param("roomId")
            let reason = try req.jsonBody().string("reason")
            // An invite (or knock) from a room this server is not in is answered through another server.
            if let m = try await rooms.membership(roomID, req.user.userID), m.membership == "invite" || m.membership == "knock",
               try await !events.serverIsJoined(roomID, server: serverName.rawValue) {
                try await leaveRemoteRoom(roomID: roomID, user: req.user.userID, membership: m, reason: reason)
                return .empty
            }
            _ = try await setMembership(roomID: roomID, sender: req.user.userID, target: req.user.userID, membership: "leave",
                                        reason: reason)
            return .empty
        }
        t.post("/_matrix/client/v3/rooms/:roomId/forget", rateLimited: true) { [self] req in
            let roomID = try req.param("roomId")
            if let m = try await rooms.membership(roomID, req.user.userID), m.membership == "join" {
                throw MatrixError(.badRequest, "M_UNKNOWN", "User is still in the room")
            }
            try await rooms.forget(roomID, req.user.userID)
            return .empty
        }
        for (action, membership) in [("invite", "invite"), ("kick", "leave"), ("ban", "ban"), ("unban", "leave")] {
            t.post("/_matrix/client/v3/rooms/:roomId/\(action)", rateLimited: true) { [self] req in
                let roomID = try req.param("roomId")
                let body = try req.jsonBody()
                let target = try body.requiredString("user_id")
                guard let targetID = UserID(target) else { throw MatrixError.invalidParam("Invalid user ID") }
                let current = try await rooms.membership(roomID, target)?.membership
                if action == "unban", current != "ban" { throw MatrixError.forbidden("The user is not banned") }
                if action == "kick", current != "join", current != "invite", current != "knock" {
                    throw MatrixError.forbidden("The user is not in the room")
                }
                if action == "invite", current == "ban" { throw MatrixError.forbidden("The user is banned from the room") }
                if action == "invite", current == "join" { throw MatrixError.forbidden("The user is already in the room") }
                if action == "invite", targetID.server != serverName {
                    try await inviteRemoteUser(roomID: roomID, sender: req.user.userID, target: targetID, reason: try body.string("reason"))
                    return .empty
                }
                _ = try await setMembership(roomID: roomID, sender: req.user.userID, target: target, membership: membership,
                                            reason: try body.string("reason"))
                return .empty
            }
        }
        t.get("/_matrix/client/v3/rooms/:roomId/members") { [self] req in
            let roomID = try req.param("roomId")
            var upTo = try await readableUpTo(roomID, req.user.userID)
            if let at = try StreamToken.parse(req.queryValue("at")) { upTo = min(upTo, at) }
            let only = req.queryValue("membership")
            let notMembership = req.queryValue("not_membership")
            let list = try await events.stateAt(roomID, pos: upTo).filter { e in
                guard e.event.type == "m.room.member", let m = e.event.membership else { return false }
                if let only, m != only { return false }
                if let notMembership, m == notMembership { return false }
                return true
            }
            return .json(["chunk": .array(try await format(list, roomID: roomID, viewer: req.user))])
        }
        t.get("/_matrix/client/v3/rooms/:roomId/joined_members") { [self] req in
            let roomID = try req.param("roomId")
            try await requireJoined(roomID, req.user.userID)
            var joined: [String: JSON] = [:]
            for e in try await events.currentState(roomID) where e.event.type == "m.room.member" && e.event.membership == "join" {
                var o: [String: JSON] = [:]
                o["display_name"] = e.event.content["displayname"] ?? .null
                o["avatar_url"] = e.event.content["avatar_url"] ?? .null
                joined[e.event.stateKey ?? ""] = .object(o)
            }
            return .json(["joined": .object(joined)])
        }
        return t
    }
}
