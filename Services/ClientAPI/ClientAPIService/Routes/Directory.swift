import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Room aliases: resolve, create, delete, list a room's local aliases; and the check that
/// an `m.room.canonical_alias` only names aliases of its own room.
extension ClientAPI {
    /// The directory tables; a value type over the shared pool, so building one is free.
    var directory: DirectoryStore { DirectoryStore(db: db) }

    func directoryRoutes() -> RouteTable {
        var t = RouteTable()
        let path = "/_matrix/client/v3/directory/room/:roomAlias"
        t.get(path, access: .optionalUser) { [self] req in
            let alias = try parseAlias(try req.param("roomAlias"))
            if alias.server != serverName { return .json(try await remoteAlias(alias)) }
            guard let found = try await rooms.resolveAlias(alias.rawValue) else {
                throw MatrixError.notFound("Room alias \(alias.rawValue) not found.")
            }
            return .json(["room_id": .string(found.roomID), "servers": [.string(serverName.rawValue)]])
        }
        t.put(path, rateLimited: true) { [self] req in
            let alias = try parseAlias(try req.param("roomAlias"))
            guard alias.server == serverName else {
                throw MatrixError.invalidParam("Room alias must be on this server (\(serverName.rawValue))")
            }
            let body = try req.jsonBody()
            guard let roomID = try body.string("room_id") else { throw MatrixError.missingParam("Missing room_id") }
            guard RoomID(roomID) != nil else { throw MatrixError.invalidParam("Invalid room ID") }
            guard try await rooms.isPublic(roomID) != nil else { throw MatrixError.notFound("Room not found") }
            try await requireJoined(roomID, req.user.userID)
            guard try await rooms.createAlias(alias.rawValue, roomID: roomID, creator: req.user.userID) else {
                throw MatrixError(.conflict, "M_UNKNOWN", "Room alias \(alias.rawValue) already exists.")
            }
            return .json([:])
        }
        t.delete(path) { [self] req in
            let alias = try parseAlias(try req.param("roomAlias"))
            guard alias.server == serverName, let found = try await rooms.resolveAlias(alias.rawValue) else {
                throw MatrixError.notFound("Room alias \(alias.rawValue) not found.")
            }
            let user = req.user
            if found.creator != user.userID, !user.isAdmin {
                guard try await userMaySend(user.userID, type: "m.room.canonical_alias", in: found.roomID) else {
                    throw MatrixError.forbidden("You don't have permission to delete the alias.")
                }
            }
            guard try await directory.deleteAlias(alias.rawValue, roomID: found.roomID) else {
                throw MatrixError.notFound("Room alias \(alias.rawValue) not found.")
            }
            await dropFromCanonicalAlias(alias.rawValue, roomID: found.roomID, sender: user.userID)
            return .json([:])
        }
        t.get("/_matrix/client/v3/rooms/:roomId/aliases") { [self] req in
            let roomID = try req.param("roomId")
            guard RoomID(roomID) != nil else { throw MatrixError.invalidParam("Invalid room ID") }
            let joined = try await rooms.membership(roomID, req.user.userID)?.membership == "join"
            let readable = try await isWorldReadable(roomID)
            guard joined || readable else {
                throw MatrixError.forbidden("You are not in the room.")
            }
            return .json(["aliases": JSON(try await rooms.aliases(roomID))])
        }
        return t
    }

    private func parseAlias(_ s: String) throws -> RoomAlias {
        guard let a = RoomAlias(s) else { throw MatrixError.invalidParam("Room alias invalid") }
        return a
    }

    /// Whether the user's power in the room's current state lets them send this state event.
    func userMaySend(_ userID: String, type: String, in roomID: String) async throws -> Bool {
        let state = try await roomCall { try await roomServer.state(roomID: roomID) }
        return state.powerLevels.userCanSend(userID, type: type, isState: true)
    }

    /// Removing an alias also removes it from the room's canonical alias event, as far as the
    /// remover's power allows; the alias is gone either way (as the spec recommends).
    private func dropFromCanonicalAlias(_ alias: String, roomID: String, sender: String) async {
        do {
            guard let cur = try await events.currentStateEvent(roomID, type: "m.room.canonical_alias", stateKey: ""),
                  var content = cur.event.content.objectValue else { return }
            var changed = false
            if content["alias"]?.stringValue == alias { content["alias"] = nil; changed = true }
            if let alt = content["alt_aliases"]?.arrayValue, alt.contains(.string(alias)) {
                content["alt_aliases"] = .array(alt.filter { $0 != .string(alias) })
                changed = true
            }
            guard changed else { return }
            _ = try await send(roomID, EventRequest(sender: sender, type: "m.room.canonical_alias", stateKey: "", content: .object(content)))
        } catch {
            logger.info("alias \(alias) deleted but the canonical alias of \(roomID) was not updated: \(error)")
        }
    }

    /// A canonical alias event may only name valid aliases that point at its own room.
    /// Aliases on other servers cannot be checked without federation, so they are refused.
    func validateCanonicalAlias(_ content: JSON, roomID: String) async throws {
        var named: [String] = []
        if let a = content["alias"], !a.isNull {
            guard let s = a.stringValue else { throw MatrixError.invalidParam("alias must be a string") }
            named.append(s)
        }
        if let alt = content["alt_aliases"], !alt.isNull {
            guard let list = alt.arrayValue else { throw MatrixError.invalidParam("alt_aliases must be an array") }
            for item in list {
                guard let s = item.stringValue else { throw MatrixError.invalidParam("alt_aliases must hold strings") }
                named.append(s)
            }
        }
        for s in named {
            guard let alias = RoomAlias(s) else { throw MatrixError.invalidParam("Invalid room alias: \(s)") }
            guard alias.server == serverName, try await rooms.resolveAlias(alias.rawValue)?.roomID == roomID else {
                throw MatrixError(.badRequest, "M_BAD_ALIAS", "The alias '\(s)' does not point to this room.")
            }
        }
    }
}
