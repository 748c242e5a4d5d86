import FederationClient
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// `PUT /_matrix/federation/v2/invite`: another server invites one of our users. We check
/// and countersign the invite and keep it, with the stripped state that came with it, so
/// the invitee sees it in /sync; in a room we are in, it goes through the room's checks.
extension ClientAPI {
    static let strippedStateKeys: Set<String> = ["type", "state_key", "sender", "content"]

    func receiveInvite(_ req: MatrixRequest, _ origin: ServerName) async throws -> MatrixResponse {
        let body = try req.jsonBody()
        guard let versionName = try body.string("room_version") else { throw MatrixError.missingParam("room_version is required") }
        guard let version = RoomVersion.named(versionName) else {
            throw MatrixError(.badRequest, "M_INCOMPATIBLE_ROOM_VERSION", "Room version \(versionName) is not supported here",
                              extra: ["room_version": .string(versionName)])
        }
        guard let eventJSON = body["event"], eventJSON.objectValue != nil else { throw MatrixError.badJSON("event is required") }
        let roomID = try req.param("roomId")
        let event = try await verifiedPDU(eventJSON, version: version)
        guard event.eventID == (try req.param("eventId")) else { throw MatrixError.invalidParam("The event ID does not match the path") }
        guard event.roomID == roomID else { throw MatrixError.invalidParam("The event is for another room") }
        guard event.type == "m.room.member", event.membership == "invite" else {
            throw MatrixError.invalidParam("The event is not an invite")
        }
        guard UserID(event.sender)?.server == origin else { throw MatrixError.invalidParam("The sender is not a user of \(origin.rawValue)") }
        let invitee = try localUser(event.stateKey)
        guard let account = try await accounts.user(invitee.rawValue), !account.deactivated else {
            throw MatrixError.notFound("Unknown user \(invitee.rawValue)")
        }
        let roomState = try Self.inviteRoomState(body["invite_room_state"]?.arrayValue ?? [], roomID: roomID, version: version)
        let signed = try countersigned(event, version)
        if try await events.serverIsJoined(roomID, server: serverName.rawValue) {
            switch try await roomCall({ try await roomServer.receive(roomID: roomID, event: signed) }) {
            case .accepted, .duplicate: break
            case .rejected(let why), .softFailed(let why): throw MatrixError.forbidden(why)
            case .missingAuthEvents: throw MatrixError.forbidden("The invite names auth events this server does not know")
            }
        } else {
            try await FederationInboxStore(db: db).saveInviteState(roomID: roomID, userID: invitee.rawValue, eventID: signed.eventID,
                                                                   state: Array(roomState.prefix(50)))
            _ = try await roomCall {
                try await roomServer.storeMembershipOutsideRoom(roomID: roomID, version: version, event: signed)
            }
        }
        return .json(["event": signed.json])
    }

    /// The `invite_room_state` of an invite, stripped for clients. From room version 12 its
    /// entries must be PDUs of the room version, the room's create event among them (spec
    /// 1.16); older versions still get stripped events from many servers, which are taken.
    static func inviteRoomState(_ entries: [JSON], roomID: String, version: RoomVersion) throws -> [JSON] {
        if version.roomIDFromCreateEvent {
            var hasCreate = false
            for e in entries {
                guard let pdu = try? ReceivedPDU.parse(e, version: version) else {
                    throw MatrixError.invalidParam("invite_room_state holds an entry that is not a room version \(version.id) event")
                }
                if pdu.type == "m.room.create", pdu.stateKey == "", pdu.roomID == roomID { hasCreate = true }
            }
            guard hasCreate else { throw MatrixError.invalidParam("invite_room_state has no m.room.create event of the room") }
        }
        return entries.compactMap(strippedEvent)
    }

    /// A stripped state event as clients see it: nothing but its type, state key, sender
    /// and content. Full PDUs (room version 12 invites send those) are cut down to that.
    static func strippedEvent(_ e: JSON) -> JSON? {
        guard let o = e.objectValue, o["type"]?.stringValue != nil, o["state_key"]?.stringValue != nil,
              o["content"]?.objectValue != nil else { return nil }
        return .object(o.filter { strippedStateKeys.contains($0.key) })
    }
}

extension ClientAPI {
    /// For an invite from another server to a room we are not in: the stripped state it
    /// came with, and the invite itself.
    func remoteInviteState(_ roomID: String, user: String, eventID: String) async throws -> [JSON]? {
        guard let state = try await FederationInboxStore(db: db).inviteState(roomID: roomID, userID: user, eventID: eventID),
              let invite = try await events.event(eventID) else { return nil }
        let own = state.filter { !($0["type"]?.stringValue == "m.room.member" && $0["state_key"]?.stringValue == user) }
        return own + [ClientEvent.stripped(invite.event)]
    }
}
