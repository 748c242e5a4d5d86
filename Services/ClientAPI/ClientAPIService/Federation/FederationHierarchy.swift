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
            var childrenState: [JSON] = []
            for (key, event) in space.state.sorted(by: { $0.key < $1.key }) where key.type == "m.space.child" {
                // A child event without `via` is a removed child.
                guard let via = event.content["via"]?.arrayValue, !via.isEmpty else { continue }
                if suggestedOnly, event.content["suggested"]?.boolValue != true { continue }
                childrenState.append(["type": "m.space.child", "state_key": .string(key.stateKey), "sender": .string(event.sender),
                                      "content": event.content, "origin_server_ts": .int(event.originServerTS)])
                guard try await events.serverIsJoined(key.stateKey, server: serverName.rawValue),
                      let child = try await describeRoom(key.stateKey) else { continue }
                if try await visible(key.stateKey, child.open, to: origin) {
                    children.append(child.summary)
                } else {
                    inaccessible.append(key.stateKey)
                }
            }
            var room = space.summary.objectValue ?? [:]
            room["children_state"] = .array(childrenState)
            return .json(["room": .object(room), "children": .array(children), "inaccessible_children": JSON(inaccessible)])
        }
    }

    /// Whether a server may see a room: it is open to discovery or the server has members in it.
    private func visible(_ roomID: String, _ open: Bool, to server: ServerName) async throws -> Bool {
        if open { return true }
        return try await events.joinedServers(roomID).contains(server.rawValue)
    }
}
