import FederationClient
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Rejecting an invite (or withdrawing a knock) in a room this server is not in (the
/// spec's "Leaving Rooms"): `make_leave` / `send_leave` through the inviting server. When
/// that server cannot be reached, the leave is kept here alone, so the invite still goes
/// away for the user.
extension ClientAPI {
    func leaveRemoteRoom(roomID: String, user: String, membership: MembershipRow, reason: String?) async throws {
        guard let version = RoomVersion.named(try await events.roomVersion(roomID) ?? "") else { throw MatrixError.notFound("Unknown room") }
        var candidates: [ServerName] = []
        if let inviter = UserID(membership.sender)?.server, inviter != serverName { candidates.append(inviter) }
        if let s = RoomID(roomID)?.server, s != serverName, !candidates.contains(s) { candidates.append(s) }
        for server in candidates {
            do {
                let made = try await federation.get(server, FederationPath.target("/_matrix/federation/v1/make_leave", [roomID, user]),
                                                    timeout: .seconds(20))
                let leave = try await finishedMembership(made["event"], roomID: roomID, user: user, membership: "leave", version: version,
                                                         reason: reason)
                _ = try await federation.send("PUT", to: server, FederationPath.target("/_matrix/federation/v2/send_leave", [roomID, leave.eventID]),
                                              body: leave.json, timeout: .seconds(30)).requireJSON()
                _ = try await roomCall { try await roomServer.storeMembershipOutsideRoom(roomID: roomID, version: version, event: leave) }
                return
            } catch {
                logger.info("leaving \(roomID) through \(server.rawValue) failed: \(error)")
            }
        }
        // Nobody to tell: a leave of our own on top of the invite.
        var content: [String: JSON] = ["membership": "leave"]
        if let reason { content["reason"] = .string(reason) }
        let ids: JSON = version.eventIDFormat == .v1 ? [[.string(membership.eventID), [:]]] : [.string(membership.eventID)]
        let json: JSON = [
            "type": "m.room.member", "state_key": .string(user), "sender": .string(user), "room_id": .string(roomID),
            "content": .object(content), "origin_server_ts": .int(nowMillis()), "depth": 1,
            "prev_events": ids, "auth_events": ids,
        ]
        let leave: Event
        do { leave = try finalizeEvent(json, roomVersion: version, serverName: serverName, signingKey: signingKey) } catch {
            throw MatrixError.unknown("The leave cannot be built: \(error)")
        }
        _ = try await roomCall { try await roomServer.storeMembershipOutsideRoom(roomID: roomID, version: version, event: leave) }
    }
}
