import MatrixCore
import ServiceKit
import Storage

/// The published room directory: a room's visibility in it, and listing and searching it.
extension ClientAPI {
    func publicRoomsRoutes() -> RouteTable {
        var t = RouteTable()
        let visibilityPath = "/_matrix/client/v3/directory/list/room/:roomId"
        t.get(visibilityPath, access: .optionalUser) { [self] req in
            guard let published = try await rooms.isPublic(try req.param("roomId")) else {
                throw MatrixError.notFound("Room not found")
            }
            return .json(["visibility": published ? "public" : "private"])
        }
        t.put(visibilityPath) { [self] req in
            let roomID = try req.param("roomId")
            let visibility = try req.jsonBody().string("visibility") ?? "public"
            guard visibility == "public" || visibility == "private" else {
                throw MatrixError.invalidParam("visibility must be public or private")
            }
            guard try await rooms.isPublic(roomID) != nil else { throw MatrixError.notFound("Room not found") }
            try await requireMayChangeRoomList(roomID, req.user)
            _ = try await rooms.setPublic(roomID, visibility == "public")
            return .json([:])
        }
        t.get("/_matrix/client/v3/publicRooms", access: .optionalUser) { [self] req in
            let limit = try req.queryInt("limit")
            if let remote = try remoteDirectory(req.queryValue("server")) {
                var query: [(String, String)] = []
                if let limit { query.append(("limit", String(limit))) }
                if let since = req.queryValue("since") { query.append(("since", since)) }
                return .json(try await remotePublicRooms(remote, body: nil, query: query))
            }
            let query = try PublicRoomsQuery(limit: checkedLimit(limit.map(Int64.init)),
                                             cursor: PublicRoomsToken.parse(req.queryValue("since")))
            return .json(try await publicRoomsPage(query))
        }
        t.post("/_matrix/client/v3/publicRooms") { [self] req in
            let body = try req.jsonBody()
            if let remote = try remoteDirectory(req.queryValue("server")) {
                // The same request body goes on to the other server.
                return .json(try await remotePublicRooms(remote, body: .object(body), query: []))
            }
            var query = try PublicRoomsQuery(limit: checkedLimit(body.int("limit")), cursor: PublicRoomsToken.parse(body.string("since")))
            if let filter = try body.object("filter") {
                query.searchTerm = try filter.string("generic_search_term")
                if let types = try filter.array("room_types") {
                    query.roomTypes = try types.map { v -> String? in
                        if v.isNull { return nil }
                        guard let s = v.stringValue else { throw MatrixError.badJSON("room_types must hold strings or null") }
                        return s
                    }
                }
            }
            // No application-service networks exist here: a named one lists nothing.
            let allNetworks = try body.bool("include_all_networks") ?? false
            if try body.string("third_party_instance_id") != nil {
                guard !allNetworks else {
                    throw MatrixError.invalidParam("third_party_instance_id cannot be combined with include_all_networks")
                }
                return .json(["chunk": [], "total_room_count_estimate": 0])
            }
            return .json(try await publicRoomsPage(query))
        }
        return t
    }

    /// The other server whose directory is asked for, or nil for ours.
    private func remoteDirectory(_ server: String?) throws -> ServerName? {
        guard let server, server != serverName.rawValue else { return nil }
        guard let name = ServerName(server) else { throw MatrixError.invalidParam("Invalid server name") }
        return name
    }

    private func checkedLimit(_ limit: Int64?) throws -> Int? {
        guard let limit else { return nil }
        guard limit >= 0 else { throw MatrixError.invalidParam("limit must not be negative") }
        return Int(min(limit, 10_000))
    }

    /// Like other servers: server admins, or members who created the room or have the power
    /// to change its canonical alias.
    func requireMayChangeRoomList(_ roomID: String, _ user: TokenOwner) async throws {
        if user.isAdmin { return }
        try await requireJoined(roomID, user.userID)
        let state = try await roomCall { try await roomServer.state(roomID: roomID) }
        if state.state[.create]?.sender == user.userID { return }
        guard state.powerLevels.userCanSend(user.userID, type: "m.room.canonical_alias", isState: true) else {
            throw MatrixError.forbidden("You don't have permission to change the published room list.")
        }
    }

    func publicRoomsPage(_ query: PublicRoomsQuery) async throws -> JSON {
        let page = try await directory.publicRooms(query)
        var out: [String: JSON] = [
            "chunk": .array(page.rooms.map(Self.chunkEntry)),
            "total_room_count_estimate": .int(page.total),
        ]
        let backwards = query.cursor.map { !$0.forward } ?? false
        // Going forward, a next page exists when more rows followed; one lies behind whenever
        // we started from a token. Paging backwards mirrors that.
        let hasNext = backwards ? query.cursor != nil : page.more
        let hasPrev = backwards ? page.more : query.cursor != nil
        if hasNext, let last = page.rooms.last { out["next_batch"] = .string(PublicRoomsToken.make(last, forward: true)) }
        if hasPrev, let first = page.rooms.first { out["prev_batch"] = .string(PublicRoomsToken.make(first, forward: false)) }
        return .object(out)
    }

    static func chunkEntry(_ r: PublicRoomEntry) -> JSON {
        var o: [String: JSON] = [
            "room_id": .string(r.roomID),
            "num_joined_members": .int(r.joinedMembers),
            "world_readable": .bool(r.historyVisibility == "world_readable"),
            "guest_can_join": .bool(r.guestAccess == "can_join"),
            "join_rule": .string(r.joinRule ?? "invite"),
        ]
        if let v = r.name { o["name"] = .string(v) }
        if let v = r.topic { o["topic"] = .string(v) }
        if let v = r.canonicalAlias { o["canonical_alias"] = .string(v) }
        if let v = r.avatarURL { o["avatar_url"] = .string(v) }
        if let v = r.roomType { o["room_type"] = .string(v) }
        return .object(o)
    }
}

/// Directory pagination tokens: `n<members>_<room ID>` lists rooms after that position,
/// `p<members>_<room ID>` the ones before it.
enum PublicRoomsToken {
    static func make(_ r: PublicRoomEntry, forward: Bool) -> String {
        "\(forward ? "n" : "p")\(r.joinedMembers)_\(r.roomID)"
    }

    static func parse(_ s: String?) throws -> PublicRoomsCursor? {
        guard let s, !s.isEmpty else { return nil }
        let bad = MatrixError.invalidParam("Invalid pagination token")
        guard let dir = s.first, dir == "n" || dir == "p", let sep = s.firstIndex(of: "_") else { throw bad }
        guard let members = Int64(s[s.index(after: s.startIndex)..<sep]) else { throw bad }
        let roomID = String(s[s.index(after: sep)...])
        guard RoomID(roomID) != nil else { throw bad }
        return PublicRoomsCursor(joinedMembers: members, roomID: roomID, forward: dir == "n")
    }
}
