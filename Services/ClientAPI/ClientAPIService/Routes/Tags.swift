import MatrixCore
import ServiceKit
import Storage

/// Room tags (favourites, low priority, …), kept as the room's `m.tag` account data.
extension ClientAPI {
    func tagRoutes() -> RouteTable {
        var t = RouteTable()
        let base = "/_matrix/client/v3/user/:userId/rooms/:roomId/tags"
        t.get(base) { [self] req in
            let (user, roomID) = try ownTagPath(req)
            return .json(["tags": try await tags(user, roomID)])
        }
        t.put(base + "/:tag") { [self] req in
            let (user, roomID) = try ownTagPath(req)
            let tag = try req.param("tag")
            guard tag.utf8.count <= 255 else { throw MatrixError.invalidParam("Tag too long") }
            var all = try await tags(user, roomID).objectValue ?? [:]
            all[tag] = try req.json()
            try await saveTags(user, roomID, all)
            return .empty
        }
        t.delete(base + "/:tag") { [self] req in
            let (user, roomID) = try ownTagPath(req)
            var all = try await tags(user, roomID).objectValue ?? [:]
            all[try req.param("tag")] = nil
            try await saveTags(user, roomID, all)
            return .empty
        }
        return t
    }

    private func ownTagPath(_ req: MatrixRequest) throws -> (String, String) {
        guard try req.param("userId") == req.user.userID else { throw MatrixError.forbidden("Cannot access other users' tags") }
        let roomID = try req.param("roomId")
        guard RoomID(roomID) != nil else { throw MatrixError.invalidParam("Invalid room ID") }
        return (req.user.userID, roomID)
    }

    private func tags(_ user: String, _ roomID: String) async throws -> JSON {
        guard let raw = try await userData.accountData(user, roomID: roomID, type: "m.tag") else { return [:] }
        return (try? JSON.parse(raw))?["tags"] ?? [:]
    }

    private func saveTags(_ user: String, _ roomID: String, _ all: [String: JSON]) async throws {
        let pos = try await userData.setAccountData(user, roomID: roomID, type: "m.tag", content: JSON.object(["tags": .object(all)]).canonicalString)
        announce(StreamNotice(pos: pos, users: [user]))
    }
}
