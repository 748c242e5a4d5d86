import FederationClient
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Inviting a user of another server (the spec's "Inviting to a room"): the invite is
/// built and checked here, signed by the invitee's server through `/invite`, and only then
/// stored, so the room never holds an invite the other server refused.
extension ClientAPI {
    func inviteRemoteUser(roomID: String, sender: String, target: UserID, reason: String?, isDirect: Bool = false) async throws {
        var content: [String: JSON] = ["membership": "invite"]
        if isDirect { content["is_direct"] = true }
        if let reason { content["reason"] = .string(reason) }
        let (event, version) = try await roomCall {
            try await roomServer.prepare(roomID: roomID, EventRequest(sender: sender, type: "m.room.member", stateKey: target.rawValue,
                                                                     content: .object(content)))
        }
        let strippedState = try await inviteRoomState(roomID, inviter: sender, version: version)
        let answer: JSON
        do {
            answer = try await federation.send("PUT", to: target.server,
                                               FederationPath.target("/_matrix/federation/v2/invite", [roomID, event.eventID]),
                                               body: ["room_version": .string(version.id), "event": event.json,
                                                      "invite_room_state": .array(strippedState)],
                                               timeout: .seconds(30)).requireJSON()
        } catch {
            throw Self.remoteError(error, notFound: "\(target.server.rawValue) does not know \(target.rawValue)")
        }
        guard let returned = answer["event"],
              let signed = try? await PDUVerifier(keys: federation.keys).verify(returned, version: version),
              signed.event.eventID == event.eventID, !signed.redacted,
              await hasValidSignature(signed.event, of: target.server, version: version) else {
            throw MatrixError(.badGateway, "M_UNKNOWN", "\(target.server.rawValue) did not sign the invite")
        }
        switch try await roomCall({ try await roomServer.receive(roomID: roomID, event: signed.event) }) {
        case .accepted, .duplicate: return
        case .rejected(let why), .softFailed(let why): throw MatrixError.forbidden(why)
        case .missingAuthEvents: throw MatrixError.unknown("The invite names unknown auth events")
        }
    }

    /// What the invitee's server shows them before they join: the room's create event and
    /// description, and the inviter, as PDUs of the room version (spec 1.16).
    private func inviteRoomState(_ roomID: String, inviter: String, version: RoomVersion) async throws -> [JSON] {
        let keep: Set<String> = ["m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar", "m.room.canonical_alias",
                                 "m.room.encryption", "m.room.topic"]
        var out = try await events.currentState(roomID).filter { keep.contains($0.event.type) }.map { pdu($0, version) }
        if let m = try await events.currentStateEvent(roomID, type: "m.room.member", stateKey: inviter) {
            out.append(pdu(m, version))
        }
        return out
    }

    /// Whether `server` signed the event with a key we can get.
    private func hasValidSignature(_ event: Event, of server: ServerName, version: RoomVersion) async -> Bool {
        for keyID in event.json.signatureKeyIDs(of: server.rawValue) {
            guard let key = try? await federation.keys.verifyKey(server: server, keyID: keyID, validAt: event.originServerTS) else {
                continue
            }
            if (try? event.json.verifyEventSignature(for: version, server: server.rawValue, key: key)) != nil { return true }
        }
        return false
    }
}
