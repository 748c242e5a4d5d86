import Foundation
import MatrixCore
import ServiceKit
import Storage

/// `/sync` v3: initial and incremental, long-polling on the notifier.
extension ClientAPI {
    func syncRoutes() -> RouteTable {
        var t = filterRoutes()
        t.get("/_matrix/client/v3/sync") { [self] req in try await sync(req) }
        return t
    }

    private func sync(_ req: MatrixRequest) async throws -> MatrixResponse {
        let user = req.user
        let since = try StreamToken.parse(req.queryValue("since"))
        let fullState = req.queryBool("full_state") ?? false
        let timeout = min(max(try req.queryInt("timeout") ?? 0, 0), 120_000)
        let filter = try await syncFilter(req.queryValue("filter"), userID: user.userID)
        try await touchPresence(user.userID, setPresence: req.queryValue("set_presence"))
        let deadline = Date().addingTimeInterval(Double(timeout) / 1000)
        while true {
            let head = try await db.currentStreamHead()
            let builder = SyncBuilder(api: self, user: user, since: since, upTo: head, fullState: fullState, filter: filter)
            let (body, isEmpty) = try await builder.build()
            let remaining = Int(deadline.timeIntervalSinceNow * 1000)
            let draining = await notifier.draining
            if since == nil || fullState || !isEmpty || remaining <= 0 || Task.isCancelled || draining {
                return .json(body)
            }
            let rooms = Set(try await self.rooms.memberships(of: user.userID).map(\.roomID))
            _ = await notifier.wait(user: user.userID, rooms: rooms, after: head, timeoutMs: remaining)
        }
    }
}

/// Builds one sync response between two positions.
struct SyncBuilder {
    let api: ClientAPI
    let user: TokenOwner
    let since: Int64?
    let upTo: Int64
    let fullState: Bool
    let filter: SyncFilter

    func build() async throws -> (JSON, Bool) {
        let from = since ?? 0
        var join: [String: JSON] = [:], invite: [String: JSON] = [:], leave: [String: JSON] = [:], knock: [String: JSON] = [:]
        let memberships = try await api.rooms.memberships(of: user.userID)
        let changed = Dictionary(uniqueKeysWithValues: memberships.filter { $0.streamPos > from && $0.streamPos <= upTo }.map { ($0.roomID, $0) })
        let ignored = try await api.ignoredUsers(user.userID)
        let accountDataChanges = try await api.userData.accountDataChanges(user.userID, since: from, upTo: upTo)
        let joinedRooms = memberships.filter { $0.membership == "join" && $0.streamPos <= upTo }.map(\.roomID)
            .filter { filter.rooms.allowsRoom($0) }
        let typing = try await api.userData.typingChanges(rooms: joinedRooms, since: from, upTo: upTo)
        let receipts = try await api.userData.receipts(rooms: joinedRooms, since: from, upTo: upTo)
        // An incremental sync builds only the rooms where something happened.
        var active: Set<String>?
        if since != nil && !fullState {
            var a = try await api.events.roomsWithEvents(joinedRooms, after: from, upTo: upTo)
            a.formUnion(typing.keys)
            a.formUnion(receipts.map(\.roomID))
            a.formUnion(accountDataChanges.map(\.0))
            active = a
        }

        for m in memberships where m.streamPos <= upTo && filter.rooms.allowsRoom(m.roomID) {
            switch m.membership {
            case "join":
                let newlyJoined = since == nil || changed[m.roomID] != nil
                if let active, !newlyJoined, !active.contains(m.roomID) { continue }
                var room = try await roomBody(m.roomID, after: from, upTo: upTo, full: fullState || newlyJoined, ignored: ignored)
                var ephemeral: [JSON] = []
                if let users = typing[m.roomID] { ephemeral.append(["type": "m.typing", "content": ["user_ids": JSON(users)]]) }
                let rr = receipts.filter { $0.roomID == m.roomID && ($0.type != "m.read.private" || $0.userID == user.userID) }
                if !rr.isEmpty { ephemeral.append(ClientAPI.receiptEvent(rr)) }
                room["ephemeral"] = ["events": .array(ephemeral)]
                let roomData = accountDataChanges.filter { $0.0 == m.roomID }.map { (_, type, content) -> JSON in
                    ["type": .string(type), "content": (try? JSON.parse(content)) ?? [:]]
                }
                room["account_data"] = ["events": .array(roomData)]
                let counts = try await unreadCounts(m.roomID)
                room["unread_notifications"] = counts.main
                if !counts.threads.isEmpty { room["unread_thread_notifications"] = .object(counts.threads) }
                let timelineEmpty = room["timeline"]?["events"]?.arrayValue?.isEmpty ?? true
                let stateEmpty = room["state"]?["events"]?.arrayValue?.isEmpty ?? true
                if since == nil || newlyJoined || !timelineEmpty || !stateEmpty || !ephemeral.isEmpty || !roomData.isEmpty || fullState {
                    join[m.roomID] = .object(room)
                }
            case "invite" where (since == nil || changed[m.roomID] != nil) && !ignored.contains(m.sender):
                invite[m.roomID] = ["invite_state": ["events": .array(try await strippedState(m.roomID, member: m.eventID))]]
            case "knock" where since == nil || changed[m.roomID] != nil:
                knock[m.roomID] = ["knock_state": ["events": .array(try await strippedState(m.roomID, member: m.eventID))]]
            case "leave", "ban":
                guard (since != nil && changed[m.roomID] != nil) || (since == nil && filter.includeLeave) else { continue }
                // A rejected invite or a room never joined has no readable history: state only.
                let room = try await roomBody(m.roomID, after: from, upTo: m.streamPos, full: true, ignored: ignored)
                leave[m.roomID] = .object(room)
            default:
                continue
            }
        }

        var global = accountDataChanges.filter { $0.0 == "" }.map { (_, type, content) -> JSON in
            ["type": .string(type), "content": (try? JSON.parse(content)) ?? [:]]
        }
        // An initial sync always carries the push rules, with the current server defaults.
        if since == nil { global = global.filter { $0["type"] != "m.push_rules" } + [try await api.pushRulesAccountDataEvent(user.userID)] }
        let toDevice = try await api.userData.toDevice(user.userID, user.deviceID, since: from, upTo: upTo, limit: 1000)
        if let since { try await api.userData.ackToDevice(user.userID, user.deviceID, upTo: since) }
        var deviceChanged: [String] = [], deviceLeft: [String] = []
        if since != nil { (deviceChanged, deviceLeft) = try await api.deviceListDelta(user.userID, since: from, upTo: upTo) }
        let fallbackTypes = try await api.keyStore.unusedFallbackKeyTypes(user.userID, user.deviceID)
        let otk = try await api.userData.oneTimeKeyCounts(user.userID, user.deviceID)
        let presence = try await PresenceStore(db: api.db).changes(for: user.userID, since: from, upTo: upTo)

        let body: JSON = [
            "next_batch": .string(StreamToken.make(upTo)),
            "rooms": ["join": .object(join), "invite": .object(invite), "leave": .object(leave), "knock": .object(knock)],
            "account_data": ["events": .array(global)],
            "to_device": ["events": .array(toDevice.map { (_, sender, type, content) in
                ["sender": .string(sender), "type": .string(type), "content": (try? JSON.parse(content)) ?? [:]]
            })],
            "device_lists": ["changed": JSON(deviceChanged), "left": JSON(deviceLeft)],
            "device_one_time_keys_count": .object(otk.mapValues { .int($0) }),
            "device_unused_fallback_key_types": JSON(fallbackTypes),
            "presence": ["events": .array(presence.map { p in
                ["type": "m.presence", "sender": .string(p.userID), "content": ClientAPI.presenceContent(p)]
            })],
        ]
        let isEmpty = join.isEmpty && invite.isEmpty && leave.isEmpty && knock.isEmpty && global.isEmpty && toDevice.isEmpty && deviceChanged.isEmpty
            // A syncing client refreshes its own presence; that alone is no news to it.
            && presence.allSatisfy { $0.userID == user.userID }
            && deviceLeft.isEmpty
        return (body, isEmpty)
    }

    /// Timeline and state of one room between `after` and `upTo`.
    private func roomBody(_ roomID: String, after: Int64, upTo: Int64, full: Bool, ignored: Set<String>) async throws -> [String: JSON] {
        let limit = filter.timeline.limit ?? 10
        let timelineAllowed = filter.timeline.allowsRoom(roomID)
        var raw = timelineAllowed && limit > 0
            ? try await api.events.roomEvents(roomID, after: full ? 0 : after, upTo: upTo, limit: limit + 1, backwards: true) : []
        var limited = raw.count > limit
        if limited { raw.removeLast() }
        raw.reverse()
        if full && !raw.isEmpty && raw.first!.streamPos <= after { limited = true }
        // For a fresh view, the timeline starts no earlier than needed but may reach before `after`.
        let timeline = try await api.historyFilter(roomID, user.userID).apply(filter.timeline.apply(raw, ignoring: ignored))
        let timelineStart = raw.first.map { $0.streamPos - 1 } ?? upTo
        var state: [StoredEvent] = []
        if full {
            state = try await api.events.stateAt(roomID, pos: timelineStart)
        } else if limited {
            state = try await api.events.stateAt(roomID, pos: timelineStart).filter { $0.streamPos > after }
        }
        let inTimeline = Set(timeline.map(\.event.eventID))
        state = state.filter { !inTimeline.contains($0.event.eventID) && filter.state.matches($0.event) }
        if filter.state.lazyLoadMembers {
            let senders = Set(timeline.map(\.event.sender)).union([user.userID])
            state = state.filter { $0.event.type != "m.room.member" || senders.contains($0.event.stateKey ?? "") }
        }
        var out: [String: JSON] = [
            "timeline": [
                "events": .array(try await api.format(timeline, roomID: roomID, viewer: user, includeRoomID: false)),
                "limited": .bool(limited),
                "prev_batch": .string(StreamToken.make(timelineStart)),
            ],
            "state": ["events": .array(try await api.format(state, roomID: roomID, viewer: user, includeRoomID: false))],
        ]
        if full || limited { out["summary"] = try await summary(roomID) }
        return out
    }

    private func summary(_ roomID: String) async throws -> JSON {
        let members = try await api.rooms.members(roomID)
        let joined = members.filter { $0.membership == "join" }
        let invited = members.filter { $0.membership == "invite" }
        let heroes = (joined + invited).map(\.userID).filter { $0 != user.userID }.sorted().prefix(5)
        return ["m.heroes": JSON(Array(heroes)), "m.joined_member_count": .int(Int64(joined.count)),
                "m.invited_member_count": .int(Int64(invited.count))]
    }

    private func strippedState(_ roomID: String, member: String) async throws -> [JSON] {
        let keep: Set<String> = ["m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar", "m.room.canonical_alias",
                                 "m.room.encryption", "m.room.topic"]
        var out = try await api.events.currentState(roomID).filter { keep.contains($0.event.type) }.map { ClientEvent.stripped($0.event) }
        if let m = try await api.events.event(member) {
            out.append(ClientEvent.stripped(m.event))
            if m.event.sender != user.userID,
               let inviter = try await api.events.currentStateEvent(roomID, type: "m.room.member", stateKey: m.event.sender) {
                out.append(ClientEvent.stripped(inviter.event))
            }
        }
        return out
    }

    private func unreadCounts(_ roomID: String) async throws -> (main: JSON, threads: [String: JSON]) {
        let read = try await api.userData.readUpTo(userID: user.userID, roomID: roomID)
        let counts = try await api.userData.unreadCounts(userID: user.userID, roomID: roomID, readUpTo: read)
        var n: Int64 = 0, h: Int64 = 0
        var threads: [String: JSON] = [:]
        for (th, c) in counts {
            if th == "main" || th.isEmpty { n += c.0; h += c.1 } else {
                threads[th] = ["notification_count": .int(c.0), "highlight_count": .int(c.1)]
            }
        }
        return (["notification_count": .int(n), "highlight_count": .int(h)], threads)
    }
}
