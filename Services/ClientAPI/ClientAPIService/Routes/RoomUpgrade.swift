import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Room upgrades: a replacement room with the old one's settings, a tombstone pointing to
/// it, and the old room's aliases, directory entry and power to speak moved or closed.
extension ClientAPI {
    func roomUpgradeRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/v3/rooms/:roomId/upgrade", rateLimited: true) { [self] req in try await upgradeRoom(req) }
        return t
    }

    private func upgradeRoom(_ req: MatrixRequest) async throws -> MatrixResponse {
        let roomID = try req.param("roomId")
        let user = req.user.userID
        let body = try req.jsonBody()
        guard let versionID = try body.string("new_version") else { throw MatrixError.missingParam("Missing new_version") }
        guard let version = RoomVersion.named(versionID) else {
            throw MatrixError(.badRequest, "M_UNSUPPORTED_ROOM_VERSION", "This server does not support that room version")
        }
        let additionalCreators = try body.stringArray("additional_creators") ?? []
        for u in additionalCreators where UserID(u) == nil { throw MatrixError.invalidParam("Invalid user ID in additional_creators: \(u)") }
        guard try await events.roomVersion(roomID) != nil else { throw MatrixError.notFound("Unknown room") }
        try await requireJoined(roomID, user)
        let old = try await roomCall { try await roomServer.state(roomID: roomID) }
        guard old.powerLevels.userCanSend(user, type: "m.room.tombstone", isState: true) else {
            throw MatrixError.forbidden("You cannot upgrade this room")
        }

        let head = try await db.currentStreamHead()
        let last = try await events.roomEvents(roomID, after: 0, upTo: head, limit: 1, backwards: true).first?.event.eventID
        let plan = RoomUpgradePlan(old: old, upgrader: user, newVersion: version, additionalCreators: additionalCreators,
                                   predecessorEventID: last, memberContent: try await joinContent(user))
        let (newRoomID, _) = try await roomCall {
            try await roomServer.createRoom(version: version, creator: user, createContent: plan.createContent,
                                            initialEvents: plan.initialEvents)
        }
        // The tombstone is checked against the state it is written on, so a lost race of power fails here.
        _ = try await send(roomID, EventRequest(
            sender: user, type: "m.room.tombstone", stateKey: "",
            content: ["body": "This room has been replaced", "replacement_room": .string(newRoomID)],
            precondition: { state in
                guard state.powerLevels.userCanSend(user, type: "m.room.tombstone", isState: true) else {
                    throw RoomServerError.forbidden("You cannot upgrade this room")
                }
            }))

        let moved = try await directory.moveAliases(from: roomID, to: newRoomID)
        if try await rooms.isPublic(roomID) == true {
            _ = try await rooms.setPublic(newRoomID, true)
            _ = try await rooms.setPublic(roomID, false)
        }
        // What follows tidies the old room; the upgrader may lack the power for it, and the
        // upgrade has happened regardless.
        await removeMovedAliases(moved, from: roomID, sender: user)
        await restrictOldRoom(roomID, sender: user)
        return .json(["replacement_room": .string(newRoomID)])
    }

    private func joinContent(_ userID: String) async throws -> JSON {
        var member: [String: JSON] = ["membership": "join"]
        if let u = try await accounts.user(userID) {
            if let d = u.displayname { member["displayname"] = .string(d) }
            if let a = u.avatarURL { member["avatar_url"] = .string(a) }
        }
        return .object(member)
    }

    /// The old room's canonical alias stops naming aliases that now lead to the new room.
    private func removeMovedAliases(_ moved: [String], from roomID: String, sender: String) async {
        guard !moved.isEmpty else { return }
        do {
            guard let cur = try await events.currentStateEvent(roomID, type: "m.room.canonical_alias", stateKey: ""),
                  var content = cur.event.content.objectValue else { return }
            let gone = Set(moved)
            var changed = false
            if let a = content["alias"]?.stringValue, gone.contains(a) { content["alias"] = nil; changed = true }
            if let alt = content["alt_aliases"]?.arrayValue {
                let kept = alt.filter { !gone.contains($0.stringValue ?? "") }
                if kept.count != alt.count { content["alt_aliases"] = .array(kept); changed = true }
            }
            guard changed else { return }
            _ = try await send(roomID, EventRequest(sender: sender, type: "m.room.canonical_alias", stateKey: "", content: .object(content)))
        } catch {
            logger.warning("room \(roomID) upgraded but its canonical alias was not updated: \(error)")
        }
    }

    /// The spec's advice: raise events_default and invite in the old room to the greater of
    /// 50 and users_default + 1, so ordinary members stop talking and inviting there.
    private func restrictOldRoom(_ roomID: String, sender: String) async {
        do {
            let state = try await roomServer.state(roomID: roomID)
            let pl = state.powerLevels
            let restricted = max(50, pl.usersDefault + 1)
            // Without a power levels event, write out the implied ones so the creator keeps theirs.
            var content = (state.state[.powerLevels]?.content ?? RoomUpgradePlan.powerLevelsContent(pl, users: pl.users)).objectValue ?? [:]
            var changed = false
            if pl.eventsDefault < restricted { content["events_default"] = .int(restricted); changed = true }
            if pl.invite < restricted { content["invite"] = .int(restricted); changed = true }
            guard changed else { return }
            _ = try await send(roomID, EventRequest(sender: sender, type: "m.room.power_levels", stateKey: "", content: .object(content)))
        } catch {
            logger.warning("room \(roomID) upgraded but its power levels were not restricted: \(error)")
        }
    }
}
