import FederationClient
import MatrixCore
import ServiceKit
import Storage

/// `GET /hierarchy/{roomId}`: a space this server is in and its children, for another
/// server walking the space for its user. Only rooms the requesting server could peek or
/// join are described; children known here but closed to it are listed as inaccessible.
extension ClientAPI {
    func federationHierarchyRoutes(_ t: inout FederationRouteTable) {
        t.get("/_matrix/federation/v1/hierarchy/:roomId") { [self] req, origin in
            let roomID = try req.param("roomId")
            let suggestedOnly = req.queryValue("suggested_only") == "true"
            guard try await events.serverIsJoined(roomID, server: serverName.rawValue),
                  let space = try await describeRoom(roomID), try await visible(roomID, space.open, to: origin) else {
                throw MatrixError.notFound("Room not found.")
            }
            var children: [JSON] = [], inaccessible: [String] = []
            let edges = Self.spaceChildren(Self.childEvents(space.state), suggestedOnly: suggestedOnly)
            for edge in edges {
                guard try await events.serverIsJoined(edge.roomID, server: serverName.rawValue),
                      let child = try await describeRoom(edge.roomID) else { continue }
                if try await visible(edge.roomID, child.open, to: origin) {
                    children.append(child.summary)
                } else {
                    inaccessible.append(edge.roomID)
                }
            }
            var room = space.summary.objectValue ?? [:]
            room["children_state"] = .array(edges.map(\.stripped))
            return .json(["room": .object(room), "children": .array(children), "inaccessible_children": JSON(inaccessible)])
        }
    }

    /// Whether a server may see a room: it is open to discovery or the server has members in it.
    private func visible(_ roomID: String, _ open: Bool, to server: ServerName) async throws -> Bool {
        if open { return true }
        return try await events.joinedServers(roomID).contains(server.rawValue)
    }

    /// A room's `m.space.child` events as `children_state` carries them: stripped, with
    /// their `origin_server_ts`.
    static func childEvents(_ state: [StateKey: Event]) -> [JSON] {
        state.filter { $0.key.type == "m.space.child" }.sorted { $0.key < $1.key }.map { _, e in
            ["type": "m.space.child", "state_key": .string(e.stateKey ?? ""), "sender": .string(e.sender),
             "content": e.content, "origin_server_ts": .int(e.originServerTS)]
        }
    }

    /// The children that `m.space.child` events (stripped) name with a `via` list (an empty
    /// one removes the child), in the spec's order: by `order`, then age, then room ID.
    static func spaceChildren(_ childEvents: [JSON], suggestedOnly: Bool) -> [SpaceChild] {
        var out: [SpaceChild] = []
        for e in childEvents {
            guard e["type"]?.stringValue == "m.space.child", let roomID = e["state_key"]?.stringValue, RoomID(roomID) != nil else {
                continue
            }
            let content = e["content"] ?? [:]
            let via = (content["via"]?.arrayValue ?? []).compactMap(\.stringValue)
            guard !via.isEmpty else { continue }
            if suggestedOnly, content["suggested"]?.boolValue != true { continue }
            // `order` counts only when it is printable ASCII of at most 50 characters.
            let order = content["order"]?.stringValue.flatMap { o in
                o.count <= 50 && o.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value <= 0x7E } ? o : nil
            }
            out.append(SpaceChild(roomID: roomID, via: via, order: order, ts: e["origin_server_ts"]?.intValue ?? 0, stripped: e))
        }
        return out.sorted { a, b in
            switch (a.order, b.order) {
            case let (x?, y?) where x != y: return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default: return (a.ts, a.roomID) < (b.ts, b.roomID)
            }
        }
    }
}

/// One child of a space, as its `m.space.child` event names it.
struct SpaceChild: Sendable {
    let roomID: String
    let via: [String]
    let order: String?
    let ts: Int64
    /// The event as `children_state` carries it: stripped, with its `origin_server_ts`.
    let stripped: JSON
}
