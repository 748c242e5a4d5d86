import FederationClient
import MatrixCore
import ServiceKit
import Storage

/// `GET /rooms/{roomId}/hierarchy`: a space and its children, depth first, as far as the
/// user may see them. Rooms this server is in are read here; others are asked of the
/// servers their `m.space.child` events name (federation `/hierarchy`). Pages are offsets
/// into the walk, which is the same for the same state.
extension ClientAPI {
    static let hierarchyMaxDepth = 10
    static let hierarchyMaxRooms = 300

    func spaceHierarchyRoutes() -> RouteTable {
        var t = RouteTable()
        t.get("/_matrix/client/v1/rooms/:roomId/hierarchy", rateLimited: true) { [self] req in
            let roomID = try req.param("roomId")
            guard RoomID(roomID) != nil else { throw MatrixError.invalidParam("Invalid room ID") }
            let suggestedOnly = req.queryBool("suggested_only") ?? false
            let limit = try req.queryInt("limit") ?? 50
            guard limit > 0 else { throw MatrixError.invalidParam("limit must be greater than zero") }
            let maxDepth = try req.queryInt("max_depth") ?? Self.hierarchyMaxDepth
            guard maxDepth >= 0 else { throw MatrixError.invalidParam("max_depth must not be negative") }
            let depth = min(maxDepth, Self.hierarchyMaxDepth)
            var offset = 0
            if let from = req.queryValue("from") {
                let parts = from.split(separator: "_").map(String.init)
                guard parts.count == 3, let o = Int(parts[0]), o >= 0 else { throw MatrixError.invalidParam("Unknown from token") }
                guard parts[1] == (suggestedOnly ? "1" : "0"), parts[2] == String(depth) else {
                    throw MatrixError.invalidParam("suggested_only and max_depth cannot change on paginated requests")
                }
                offset = o
            }
            let via = (req.query["via"] ?? []) + (RoomID(roomID)?.server.map { [$0.rawValue] } ?? [])
            let all = try await walkHierarchy(roomID, via: via, user: req.user.userID, suggestedOnly: suggestedOnly, maxDepth: depth,
                                              upTo: offset + min(limit, 100) + 1)
            let page = Array(all.dropFirst(offset).prefix(min(limit, 100)))
            var out: [String: JSON] = ["rooms": .array(page)]
            if offset + page.count < all.count { out["next_batch"] = .string("\(offset + page.count)_\(suggestedOnly ? 1 : 0)_\(depth)") }
            return .json(.object(out))
        }
        return t
    }

    /// The rooms of the walk, depth first, up to `upTo` of them; the root must be visible.
    private func walkHierarchy(_ root: String, via: [String], user: String, suggestedOnly: Bool, maxDepth: Int,
                               upTo: Int) async throws -> [JSON] {
        var stack: [(roomID: String, via: [String], depth: Int)] = [(root, via, 0)]
        var seen = Set<String>()
        var described: [String: JSON] = [:]
        var out: [JSON] = []
        while let next = stack.popLast(), out.count < min(upTo, Self.hierarchyMaxRooms) {
            guard seen.insert(next.roomID).inserted else { continue }
            guard let (room, children) = try await hierarchyNode(next.roomID, via: next.via, user: user,
                                                                 suggestedOnly: suggestedOnly, described: &described) else {
                if next.roomID == root { throw MatrixError.forbidden("You are not allowed to view this room.") }
                continue
            }
            out.append(room)
            guard next.depth < maxDepth else { continue }
            for child in children.reversed() where !seen.contains(child.roomID) {
                stack.append((child.roomID, child.via, next.depth + 1))
            }
        }
        return out
    }

    /// One room of the walk with its children, or nil when the user may not see it or no
    /// server could describe it. `described` keeps the child summaries other servers sent.
    private func hierarchyNode(_ roomID: String, via: [String], user: String, suggestedOnly: Bool,
                               described: inout [String: JSON]) async throws -> (JSON, [SpaceChild])? {
        let membership = try await rooms.membership(roomID, user)?.membership
        if try await events.serverIsJoined(roomID, server: serverName.rawValue), let room = try await describeRoom(roomID) {
            let allowed = JoinRule.allowedRoomIDs(content: room.state[.joinRules]?.content ?? [:])
            var visible = room.open || membership == "join" || membership == "invite"
            if !visible { visible = try await joinedAny(allowed, user) }
            guard visible else { return nil }
            let children = Self.spaceChildren(Self.childEvents(room.state), suggestedOnly: suggestedOnly)
            var summary = room.summary.objectValue ?? [:]
            summary["children_state"] = .array(children.map(\.stripped))
            if !allowed.isEmpty { summary["allowed_room_ids"] = JSON(allowed) }
            return (.object(summary), children)
        }
        // A child another server described already is enough, unless it is a space to walk.
        if let known = described[roomID], known["room_type"]?.stringValue != "m.space" {
            guard try await mayJoin(known, membership: membership, user: user) else { return nil }
            var summary = known.objectValue ?? [:]
            summary["children_state"] = []
            return (.object(summary), [])
        }
        var seen = Set<String>()
        let servers = via.compactMap(ServerName.init).filter { $0 != serverName && seen.insert($0.rawValue).inserted }
        for server in servers.prefix(3) {
            let answer: JSON
            do {
                answer = try await federation.get(server, FederationPath.target("/_matrix/federation/v1/hierarchy", [roomID],
                                                                                query: [("suggested_only", suggestedOnly ? "true" : "false")]),
                                                  timeout: .seconds(10))
            } catch {
                logger.info("hierarchy of \(roomID) from \(server.rawValue) not had: \(error)")
                continue
            }
            guard var room = answer["room"]?.objectValue, room["room_id"]?.stringValue == roomID else { continue }
            for child in answer["children"]?.arrayValue ?? [] {
                if let id = child["room_id"]?.stringValue, child.objectValue != nil, described[id] == nil { described[id] = child }
            }
            guard try await mayJoin(.object(room), membership: membership, user: user) else { return nil }
            let children = Self.spaceChildren(room["children_state"]?.arrayValue ?? [], suggestedOnly: suggestedOnly)
            room["children_state"] = .array(children.map(\.stripped))
            return (.object(room), children)
        }
        return nil
    }

    /// Whether the user may see a room this server is not in, from its summary.
    private func mayJoin(_ summary: JSON, membership: String?, user: String) async throws -> Bool {
        if membership == "join" || membership == "invite" { return true }
        if summary["world_readable"]?.boolValue == true { return true }
        let rule = summary["join_rule"]?.stringValue ?? "invite"
        if ["public", "knock", "knock_restricted"].contains(rule) { return true }
        guard rule == "restricted" else { return false }
        return try await joinedAny((summary["allowed_room_ids"]?.arrayValue ?? []).compactMap(\.stringValue), user)
    }

    private func joinedAny(_ roomIDs: [String], _ user: String) async throws -> Bool {
        for r in roomIDs where try await rooms.membership(r, user)?.membership == "join" { return true }
        return false
    }
}
