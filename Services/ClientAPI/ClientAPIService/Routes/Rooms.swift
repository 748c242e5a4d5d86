import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// createRoom, send, state, redact, single events, joined rooms.
extension ClientAPI {
    func roomRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/v3/createRoom", rateLimited: true) { [self] req in try await createRoom(req) }
        t.get("/_matrix/client/v3/joined_rooms") { [self] req in
            .json(["joined_rooms": JSON(try await rooms.joinedRooms(req.user.userID))])
        }
        // A retried transaction is answered by the room server: from its recent transactions, or
        // from storage when the commit finds the transaction taken or the request is refused.
        t.put("/_matrix/client/v3/rooms/:roomId/send/:type/:txnId", rateLimited: true) { [self] req in
            let roomID = try req.param("roomId")
            let txn = TxnRef(userID: req.user.userID, deviceID: req.user.deviceID, txnID: try req.param("txnId"))
            let content = try req.json()
            let r = try await send(roomID, EventRequest(sender: req.user.userID, type: try req.param("type"), content: content, txn: txn))
            return .json(["event_id": .string(r.event.eventID)])
        }
        t.put("/_matrix/client/v3/rooms/:roomId/redact/:eventId/:txnId", rateLimited: true) { [self] req in
            let roomID = try req.param("roomId")
            let txn = TxnRef(userID: req.user.userID, deviceID: req.user.deviceID, txnID: try req.param("txnId"))
            let target = try req.param("eventId")
            var content = try req.jsonBody()
            content["redacts"] = nil
            let r = try await send(roomID, EventRequest(sender: req.user.userID, type: "m.room.redaction", content: .object(content),
                                                        txn: txn, redacts: target))
            return .json(["event_id": .string(r.event.eventID)])
        }
        for pattern in ["/_matrix/client/v3/rooms/:roomId/state/:type", "/_matrix/client/v3/rooms/:roomId/state/:type/:stateKey"] {
            t.put(pattern, rateLimited: true) { [self] req in
                let roomID = try req.param("roomId")
                let type = try req.param("type")
                let sk = req.params["stateKey"] ?? ""
                let content = try req.json()
                if type == "m.room.member" { throw MatrixError.forbidden("Use the membership endpoints to change membership") }
                if type == "m.room.canonical_alias" && sk.isEmpty { try await validateCanonicalAlias(content, roomID: roomID) }
                // An unchanged state event is not sent again (as other servers do).
                if let cur = try await events.currentStateEvent(roomID, type: type, stateKey: sk), cur.event.content == content,
                   cur.event.sender == req.user.userID {
                    return .json(["event_id": .string(cur.event.eventID)])
                }
                let r = try await send(roomID, EventRequest(sender: req.user.userID, type: type, stateKey: sk, content: content))
                return .json(["event_id": .string(r.event.eventID)])
            }
            t.get(pattern) { [self] req in
                let roomID = try req.param("roomId")
                let type = try req.param("type")
                let sk = req.params["stateKey"] ?? ""
                let upTo = try await readableUpTo(roomID, req.user.userID)
                let head = try await db.currentStreamHead()
                let ev: StoredEvent?
                if upTo >= head {
                    ev = try await events.currentStateEvent(roomID, type: type, stateKey: sk)
                } else {
                    ev = try await events.stateAt(roomID, pos: upTo).first { $0.event.type == type && $0.event.stateKey == sk }
                }
                guard let ev else { throw MatrixError.notFound("Event not found") }
                if req.queryValue("format") == "event" {
                    return .json(try await format([ev], roomID: roomID, viewer: req.user)[0])
                }
                let version = try await roomVersion(roomID)
                let content = ev.redactedBy != nil ? (ev.event.json.redacted(for: version)["content"] ?? [:]) : ev.event.content
                return .json(content)
            }
        }
        t.get("/_matrix/client/v3/rooms/:roomId/state") { [self] req in
            let roomID = try req.param("roomId")
            let upTo = try await readableUpTo(roomID, req.user.userID)
            let list = try await events.stateAt(roomID, pos: upTo)
            return .json(.array(try await format(list, roomID: roomID, viewer: req.user)))
        }
        t.get("/_matrix/client/v3/rooms/:roomId/event/:eventId") { [self] req in
            let roomID = try req.param("roomId")
            let upTo = try await readableUpTo(roomID, req.user.userID)
            guard let ev = try await events.event(try req.param("eventId")), ev.event.roomID == roomID, ev.streamPos <= upTo,
                  try await historyFilter(roomID, req.user.userID).visible(ev) else {
                throw MatrixError.notFound("Event not found")
            }
            return .json(try await format([ev], roomID: roomID, viewer: req.user)[0])
        }
        return t
    }

    private func createRoom(_ req: MatrixRequest) async throws -> MatrixResponse {
        let body = try req.jsonBody()
        let creator = req.user.userID
        let version: RoomVersion
        if let v = try body.string("room_version") {
            guard let rv = RoomVersion.named(v) else { throw MatrixError(.badRequest, "M_UNSUPPORTED_ROOM_VERSION", "Unsupported room version") }
            version = rv
        } else {
            version = .default
        }
        let visibility = try body.string("visibility") ?? "private"
        guard visibility == "private" || visibility == "public" else { throw MatrixError.invalidParam("visibility must be public or private") }
        let preset = try body.string("preset") ?? (visibility == "public" ? "public_chat" : "private_chat")
        guard ["private_chat", "public_chat", "trusted_private_chat"].contains(preset) else { throw MatrixError.invalidParam("Unknown preset") }
        let invites = try body.stringArray("invite") ?? []
        for u in invites where UserID(u) == nil { throw MatrixError.invalidParam("Invalid user ID in invite: \(u)") }
        let isDirect = try body.bool("is_direct") ?? false

        var alias: String?
        if let local = try body.string("room_alias_name") {
            let a = "#\(local):\(serverName.rawValue)"
            guard RoomAlias(a) != nil, !local.contains(":") else { throw MatrixError.invalidParam("Invalid alias") }
            if try await rooms.resolveAlias(a) != nil { throw MatrixError(.badRequest, "M_ROOM_IN_USE", "Room alias already taken") }
            alias = a
        }

        var create = try body.object("creation_content") ?? [:]
        create["room_version"] = .string(version.id)
        if version.updatedRedactionRules { create["creator"] = nil } else { create["creator"] = .string(creator) }

        // Power levels: defaults, preset adjustments, then the client's override on top.
        var users: [String: JSON] = version.additionalCreators ? [:] : [creator: 100]
        if preset == "trusted_private_chat" { for u in invites { users[u] = 100 } }
        if version.additionalCreators {
            for u in (create["additional_creators"]?.arrayValue ?? []).compactMap(\.stringValue) { users[u] = nil }
        }
        var pl: [String: JSON] = [
            "users": .object(users), "users_default": 0, "events_default": 0, "state_default": 50,
            "ban": 50, "kick": 50, "redact": 50, "invite": preset == "public_chat" ? 50 : 0,
            "events": [
                "m.room.name": 50, "m.room.power_levels": 100, "m.room.history_visibility": 100,
                "m.room.canonical_alias": 50, "m.room.avatar": 50, "m.room.tombstone": 100,
                "m.room.server_acl": 100, "m.room.encryption": 100,
            ],
            "notifications": ["room": 50],
        ]
        if let o = try body.object("power_level_content_override") {
            for (k, v) in o {
                if let inner = v.objectValue, let existing = pl[k]?.objectValue, k == "events" || k == "users" || k == "notifications" {
                    pl[k] = .object(existing.merging(inner) { $1 })
                } else {
                    pl[k] = v
                }
            }
        }

        func state(_ type: String, _ key: String = "", _ content: JSON) -> EventRequest {
            EventRequest(sender: creator, type: type, stateKey: key, content: content)
        }
        var initial: [EventRequest] = []
        var member: [String: JSON] = ["membership": "join"]
        if let u = try await accounts.user(creator) {
            if let d = u.displayname { member["displayname"] = .string(d) }
            if let a = u.avatarURL { member["avatar_url"] = .string(a) }
        }
        initial.append(state("m.room.member", creator, .object(member)))
        initial.append(state("m.room.power_levels", "", .object(pl)))
        if let alias { initial.append(state("m.room.canonical_alias", "", ["alias": .string(alias)])) }
        initial.append(state("m.room.join_rules", "", ["join_rule": preset == "public_chat" ? "public" : "invite"]))
        initial.append(state("m.room.history_visibility", "", ["history_visibility": "shared"]))
        if preset != "public_chat" { initial.append(state("m.room.guest_access", "", ["guest_access": "can_join"])) }
        for s in try body.array("initial_state") ?? [] {
            guard let type = s["type"]?.stringValue, let content = s["content"], content.objectValue != nil else {
                throw MatrixError.badJSON("initial_state entries need type and content")
            }
            initial.append(state(type, s["state_key"]?.stringValue ?? "", content))
        }
        if let name = try body.string("name") { initial.append(state("m.room.name", "", ["name": .string(name)])) }
        if let topic = try body.string("topic") { initial.append(state("m.room.topic", "", ["topic": .string(topic)])) }
        let serverName = self.serverName
        let remoteInvites = invites.filter { UserID($0)?.server != serverName }
        for u in invites where UserID(u)?.server == serverName {
            var c: [String: JSON] = ["membership": "invite"]
            if isDirect { c["is_direct"] = true }
            if let p = try await accounts.user(u) {
                if let d = p.displayname { c["displayname"] = .string(d) }
                if let a = p.avatarURL { c["avatar_url"] = .string(a) }
            }
            initial.append(state("m.room.member", u, .object(c)))
        }

        let (roomID, _) = try await roomCall {
            try await roomServer.createRoom(version: version, creator: creator, createContent: .object(create), initialEvents: initial)
        }
        if let alias { _ = try await rooms.createAlias(alias, roomID: roomID, creator: creator) }
        if visibility == "public" { _ = try await rooms.setPublic(roomID, true) }
        // Users of other servers are invited through their servers once the room exists; one
        // that cannot be reached does not undo the room.
        for u in remoteInvites {
            guard let target = UserID(u) else { continue }
            do {
                try await inviteRemoteUser(roomID: roomID, sender: creator, target: target, reason: nil, isDirect: isDirect)
            } catch {
                logger.info("inviting \(u) to new room \(roomID) failed: \(error)")
            }
        }
        return .json(["room_id": .string(roomID)])
    }
}
