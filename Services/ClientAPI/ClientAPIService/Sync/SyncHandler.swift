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
        // A poll from where the last one ended first waits on the rooms that one read, and
        // reads Postgres only once something is announced (or the wait ends).
        var mayWaitFirst = since != nil && !fullState
        while true {
            if mayWaitFirst, let since, remaining(deadline) > 0, !Task.isCancelled, !(await notifier.draining) {
                _ = await notifier.waitOnRemembered(user: user.userID, after: since, timeoutMs: remaining(deadline))
            }
            mayWaitFirst = false
            // An incremental sync reads the head, the memberships and what moved in one go.
            let probe: SyncProbe? = if let since, !fullState {
                try await syncBatches.syncProbe(userID: user.userID, deviceID: user.deviceID, since: since)
            } else { nil }
            let (head, memberships): (Int64, [MembershipRow])
            if let probe { (head, memberships) = (probe.head, probe.memberships) } else {
                let list = try await rooms.roomList(of: user.userID)
                (head, memberships) = (list.head, list.memberships)
            }
            // Every room the user has a membership in wakes this sync.
            let memberRooms = Set(memberships.map(\.roomID))
            await notifier.remember(rooms: memberRooms, of: user.userID, asOf: head)
            // Nothing is committed after `since`: the answer would be empty, so wait first.
            if let since, since >= head, !fullState, remaining(deadline) > 0, !Task.isCancelled, !(await notifier.draining) {
                if await notifier.wait(user: user.userID, rooms: memberRooms, after: head, timeoutMs: remaining(deadline)) { continue }
            }
            let builder = SyncBuilder(api: self, user: user, since: since, upTo: head, fullState: fullState, filter: filter,
                                      memberships: memberships, moved: probe?.changes)
            let (body, isEmpty) = try await builder.build()
            let draining = await notifier.draining
            if since == nil || fullState || !isEmpty || remaining(deadline) <= 0 || Task.isCancelled || draining {
                return .json(body)
            }
            _ = await notifier.wait(user: user.userID, rooms: memberRooms, after: head, timeoutMs: remaining(deadline))
        }
    }

    private func remaining(_ deadline: Date) -> Int { Int(deadline.timeIntervalSinceNow * 1000) }
}

/// Builds one sync response between two positions.
struct SyncBuilder {
    let api: ClientAPI
    let user: TokenOwner
    let since: Int64?
    let upTo: Int64
    let fullState: Bool
    let filter: SyncFilter
    /// The user's memberships, read with `upTo`.
    let memberships: [MembershipRow]
    /// For an incremental sync, which streams moved from `since` to `upTo`.
    let moved: SyncChanges?

    func build() async throws -> (JSON, Bool) {
        let from = since ?? 0
        var join: [String: JSON] = [:], invite: [String: JSON] = [:], leave: [String: JSON] = [:], knock: [String: JSON] = [:]
        let changed = Dictionary(uniqueKeysWithValues: memberships.filter { $0.streamPos > from && $0.streamPos <= upTo }.map { ($0.roomID, $0) })
        let joinedRooms = memberships.filter { $0.membership == "join" && $0.streamPos <= upTo }.map(\.roomID)
            .filter { filter.rooms.allowsRoom($0) }
        // An incremental sync reads only the streams that moved.
        let wantAccountData = (moved?.accountData ?? true) && !(filter.accountData.excludesAll && filter.roomAccountData.excludesAll)
        let accountDataChanges = wantAccountData ? try await api.userData.accountDataChanges(user.userID, since: from, upTo: upTo)
            .filter { ($0.0 == "" ? filter.accountData : filter.roomAccountData).allowsType($0.1) } : []
        let wantEphemeral = !filter.ephemeral.excludesAll
        let typing = wantEphemeral && filter.ephemeral.allowsType("m.typing") && (moved?.typing ?? true)
            ? try await api.userData.typingChanges(rooms: joinedRooms, since: from, upTo: upTo) : [:]
        let receipts = wantEphemeral && filter.ephemeral.allowsType("m.receipt") && (moved?.receipts ?? true)
            ? try await api.userData.receipts(rooms: joinedRooms, since: from, upTo: upTo) : []
        // An incremental sync builds only the rooms where something happened.
        var active: Set<String>?
        if var a = moved?.roomsWithEvents {
            a.formUnion(typing.keys)
            a.formUnion(receipts.map(\.roomID))
            a.formUnion(accountDataChanges.map(\.0))
            active = a
        }
        let needsRooms = since == nil || fullState || !changed.isEmpty || !(active?.isEmpty ?? false)
        var ignored: Set<String> = []
        if needsRooms {
            // An incremental sync has the ignore list from the probe.
            ignored = if let moved { ClientAPI.ignoredUsers(in: moved.ignoredUserList) } else { try await api.ignoredUsers(user.userID) }
        }

        // First which rooms this response carries, then their data for all of them at once.
        var plans: [RoomPlan] = []
        for m in memberships where m.streamPos <= upTo && filter.rooms.allowsRoom(m.roomID) {
            switch m.membership {
            case "join":
                let newlyJoined = since == nil || changed[m.roomID] != nil
                if let active, !newlyJoined, !active.contains(m.roomID) { continue }
                plans.append(RoomPlan(roomID: m.roomID, after: from, upTo: upTo, full: fullState || newlyJoined,
                                      joined: true, newlyJoined: newlyJoined))
            case "invite" where (since == nil || changed[m.roomID] != nil) && !ignored.contains(m.sender):
                invite[m.roomID] = ["invite_state": ["events": .array(try await strippedState(m.roomID, member: m.eventID))]]
            case "knock" where since == nil || changed[m.roomID] != nil:
                knock[m.roomID] = ["knock_state": ["events": .array(try await strippedState(m.roomID, member: m.eventID))]]
            case "leave", "ban":
                guard (since != nil && changed[m.roomID] != nil) || (since == nil && filter.includeLeave) else { continue }
                // A rejected invite or a room never joined has no readable history: state only.
                plans.append(RoomPlan(roomID: m.roomID, after: from, upTo: m.streamPos, full: true, joined: false, newlyJoined: false))
            default:
                continue
            }
        }
        async let bodiesRead = roomBodies(plans, ignored: ignored)
        async let unreadRead = api.syncBatches.unreadCounts(userID: user.userID, rooms: plans.filter(\.joined).map(\.roomID))
        var bodies = try await bodiesRead
        let unread = try await unreadRead
        for plan in plans {
            guard var room = bodies.removeValue(forKey: plan.roomID) else { continue }
            guard plan.joined else {
                leave[plan.roomID] = .object(room)
                continue
            }
            var ephemeral: [JSON] = []
            if let users = typing[plan.roomID] { ephemeral.append(["type": "m.typing", "content": ["user_ids": JSON(users)]]) }
            let rr = receipts.filter { $0.roomID == plan.roomID && ($0.type != "m.read.private" || $0.userID == user.userID) }
            if !rr.isEmpty { ephemeral.append(ClientAPI.receiptEvent(rr)) }
            room["ephemeral"] = ["events": .array(ephemeral)]
            let roomData = accountDataChanges.filter { $0.0 == plan.roomID }.map { (_, type, content) -> JSON in
                ["type": .string(type), "content": (try? JSON.parse(content)) ?? [:]]
            }
            room["account_data"] = ["events": .array(roomData)]
            let counts = Self.unreadJSON(unread[plan.roomID] ?? [:])
            room["unread_notifications"] = counts.main
            if !counts.threads.isEmpty { room["unread_thread_notifications"] = .object(counts.threads) }
            let timelineEmpty = room["timeline"]?["events"]?.arrayValue?.isEmpty ?? true
            let stateEmpty = room["state"]?["events"]?.arrayValue?.isEmpty ?? true
            if since == nil || plan.newlyJoined || !timelineEmpty || !stateEmpty || !ephemeral.isEmpty || !roomData.isEmpty || fullState {
                join[plan.roomID] = .object(room)
            }
        }

        var global = accountDataChanges.filter { $0.0 == "" }.map { (_, type, content) -> JSON in
            ["type": .string(type), "content": (try? JSON.parse(content)) ?? [:]]
        }
        // An initial sync always carries the push rules, with the current server defaults.
        if since == nil {
            global = global.filter { $0["type"] != "m.push_rules" }
            if filter.accountData.allowsType("m.push_rules") { global.append(try await api.pushRulesAccountDataEvent(user.userID)) }
        }
        var toDevice: [(Int64, String, String, String)] = []
        if moved?.toDevice ?? true {
            toDevice = try await api.userData.toDevice(user.userID, user.deviceID, since: from, upTo: upTo, limit: 1000)
            if let since { try await api.userData.ackToDevice(user.userID, user.deviceID, upTo: since) }
        }
        var deviceChanged: [String] = [], deviceLeft: [String] = []
        if since != nil, moved.map({ $0.deviceLists || $0.memberChanges || !changed.isEmpty }) ?? true {
            (deviceChanged, deviceLeft) = try await api.deviceListDelta(user.userID, since: from, upTo: upTo)
        }
        let (otk, fallbackTypes) = if let moved { (moved.oneTimeKeyCounts, moved.unusedFallbackKeyTypes) }
            else { try await api.keyStore.syncKeyCounts(user.userID, user.deviceID) }
        let presence = filter.presence.excludesAll || !(moved?.presence ?? true) ? []
            : try await PresenceStore(db: api.db).changes(for: user.userID, since: from, upTo: upTo)
                .filter { filter.presence.allowsType("m.presence") && filter.presence.allowsSender($0.userID) }

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

    /// Timeline and state of each planned room, read with a fixed number of queries for all.
    private func roomBodies(_ plans: [RoomPlan], ignored: Set<String>) async throws -> [String: [String: JSON]] {
        let limit = filter.timeline.limit ?? 10
        async let timelineRead = api.sharedReads.latestEvents(plans.filter { limit > 0 && filter.timeline.allowsRoom($0.roomID) }.map {
            TimelineSlice(roomID: $0.roomID, after: $0.full ? 0 : $0.after, upTo: $0.upTo, limit: limit + 1)
        })
        async let historyRead = HistoryFilter.loadMany(api, rooms: plans.map(\.roomID), userID: user.userID, asOf: upTo)
        let (timelines, history) = try await (timelineRead, historyRead)
        struct Shown { var timeline: [StoredEvent]; var limited: Bool; var start: Int64 }
        var shown: [String: Shown] = [:]
        var statePoints: [(roomID: String, pos: Int64)] = []
        for plan in plans {
            var raw = timelines[plan.roomID] ?? []
            var limited = raw.count > limit
            if limited { raw.removeLast(raw.count - limit) }
            raw.reverse()
            if plan.full && !raw.isEmpty && raw.first!.streamPos <= plan.after { limited = true }
            // For a fresh view, the timeline starts no earlier than needed but may reach before `after`.
            let candidates = try await filter.timeline.apply(raw, ignoring: ignored)
            let timeline = history[plan.roomID]?.apply(candidates) ?? candidates
            let start = raw.first.map { $0.streamPos - 1 } ?? plan.upTo
            shown[plan.roomID] = Shown(timeline: timeline, limited: limited, start: start)
            if plan.full || limited { statePoints.append((plan.roomID, start)) }
        }
        let summarised = statePoints.map(\.roomID)
        async let stateRead = api.events.stateAt(statePoints)
        async let summaryRead = api.rooms.summaries(summarised, viewer: user.userID, heroLimit: 5)
        let (states, summaries) = try await (stateRead, summaryRead)

        var lists: [[StoredEvent]] = []
        for plan in plans {
            let sh = shown[plan.roomID]!
            var state = states[plan.roomID] ?? []
            if !plan.full { state = state.filter { $0.streamPos > plan.after } }
            let inTimeline = Set(sh.timeline.map(\.event.eventID))
            state = state.filter { !inTimeline.contains($0.event.eventID) && filter.state.matches($0.event) }
            if filter.state.lazyLoadMembers {
                let senders = Set(sh.timeline.map(\.event.sender)).union([user.userID])
                state = state.filter { $0.event.type != "m.room.member" || senders.contains($0.event.stateKey ?? "") }
            }
            lists += [sh.timeline, state]
        }
        let formatted = try await api.formatMany(lists, viewer: user, includeRoomID: false)
        var out: [String: [String: JSON]] = [:]
        for (i, plan) in plans.enumerated() {
            let sh = shown[plan.roomID]!
            var body: [String: JSON] = [
                "timeline": [
                    "events": .array(formatted[2 * i]),
                    "limited": .bool(sh.limited),
                    "prev_batch": .string(StreamToken.make(sh.start)),
                ],
                "state": ["events": .array(formatted[2 * i + 1])],
            ]
            if plan.full || sh.limited {
                let c = summaries[plan.roomID] ?? RoomSummaryRow()
                // Heroes are joined and invited members only here, as before the batch read.
                let h = c.heroes.filter { $0.membership == "join" || $0.membership == "invite" }.map(\.userID)
                body["summary"] = ["m.heroes": JSON(h), "m.joined_member_count": .int(c.joined),
                                   "m.invited_member_count": .int(c.invited)]
            }
            out[plan.roomID] = body
        }
        return out
    }

    private func strippedState(_ roomID: String, member: String) async throws -> [JSON] {
        let keep: Set<String> = ["m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar", "m.room.canonical_alias",
                                 "m.room.encryption", "m.room.topic"]
        if let remote = try await api.remoteInviteState(roomID, user: user.userID, eventID: member) { return remote }
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

    /// The main timeline's counts and each thread's, as /sync carries them.
    static func unreadJSON(_ counts: [String: (Int64, Int64)]) -> (main: JSON, threads: [String: JSON]) {
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

/// A room a /sync response carries, before its data is read.
private struct RoomPlan {
    let roomID: String
    let after: Int64
    let upTo: Int64
    /// The whole state up to the timeline, not only what changed after `after`.
    let full: Bool
    let joined: Bool
    let newlyJoined: Bool
}
