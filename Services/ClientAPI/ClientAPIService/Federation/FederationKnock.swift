import FederationClient
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Other servers' users knocking on rooms we are in (`make_knock`/`send_knock`): the knock
/// goes into the room like any membership, and the knocker's server gets the room's
/// description to show them.
extension ClientAPI {
    func federationKnockRoutes(_ t: inout FederationRouteTable) {
        t.get("/_matrix/federation/v1/make_knock/:roomId/:userId") { [self] req, origin in
            let (roomID, version) = try await residentRoom(try req.param("roomId"))
            let userID = try remoteUser(try req.param("userId"), of: origin)
            // Knocking came with room version 7; the knocker's server must support this one.
            guard version.knockingSupported, (req.query["ver"] ?? []).contains(version.id) else {
                throw MatrixError(.badRequest, "M_INCOMPATIBLE_ROOM_VERSION",
                                  "Knocking on this room needs room version \(version.id)", extra: ["room_version": .string(version.id)])
            }
            let (template, v) = try await roomCall {
                try await roomServer.template(roomID: roomID, EventRequest(sender: userID, type: "m.room.member", stateKey: userID,
                                                                          content: ["membership": "knock"]))
            }
            return .json(["event": template, "room_version": .string(v.id)])
        }
        t.put("/_matrix/federation/v1/send_knock/:roomId/:eventId") { [self] req, origin in
            let (roomID, version) = try await residentRoom(try req.param("roomId"))
            guard version.knockingSupported else { throw MatrixError.forbidden("Room version \(version.id) has no knocking") }
            let event = try await membershipEvent(req, origin, roomID: roomID, version: version, membership: "knock")
            _ = try await acceptMembership(try countersigned(event, version), roomID: roomID)
            return .json(["knock_room_state": .array(try await knockRoomState(roomID, version: version))])
        }
    }

    /// The room's create event and description, as PDUs of the room version (spec 1.16).
    func knockRoomState(_ roomID: String, version: RoomVersion) async throws -> [JSON] {
        try await events.currentState(roomID).filter { Self.describingStateTypes.contains($0.event.type) }.map { pdu($0, version) }
    }

    /// The state events that let someone outside a room recognise it.
    static let describingStateTypes: Set<String> = [
        "m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar", "m.room.canonical_alias", "m.room.encryption",
        "m.room.topic",
    ]
}
