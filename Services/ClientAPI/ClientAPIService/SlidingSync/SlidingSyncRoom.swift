import MatrixCore
import ServiceKit
import Storage

/// How much of a room a response carries.
enum RoomRenderMode: Sendable {
    /// Everything, replacing what the client had (`initial`).
    case initial
    /// What changed after the position it was last sent up to; `expandTimeline` resends the
    /// latest events because the timeline limit grew, `fullState` resends the required state
    /// because its selectors grew.
    case incremental(since: Int64, expandTimeline: Bool, fullState: Bool)
}

struct RoomRenderContext: Sendable {
    let user: TokenOwner
    let upTo: Int64
    /// The stream position of the request's `pos`: timeline events after it are live.
    let requestFrom: Int64?
    let ignored: Set<String>
    let directRooms: Set<String>
}

extension ClientAPI {
    /// Renders one room. `knownMembers` are the users whose membership the client already got
    /// as timeline senders; the result says who is known after this response.
    func renderRoom(_ room: ListedRoom, config: RoomConfig, mode: RoomRenderMode, knownMembers: Set<String>,
                    ctx: RoomRenderContext) async throws -> (JSON, Set<String>) {
        let roomID = room.roomID
        var out: [String: JSON] = ["bump_stamp": .int(room.bumpStamp)]
        if case .initial = mode { out["initial"] = true }
        if room.membership.membership == "invite" {
            out["invite_state"] = .array(try await inviteState(room.membership, viewer: ctx.user.userID))
            if ctx.directRooms.contains(roomID) { out["is_dm"] = true }
            return (.object(out), [])
        }
        // A room the user left is shown up to the leave.
        let upTo = room.membership.membership == "join" ? ctx.upTo : min(ctx.upTo, room.membership.streamPos)
        let since: Int64?
        var fullState = false, expanded = false
        switch mode {
        case .initial: since = nil; fullState = true
        case .incremental(let s, let e, let f): since = e ? nil : s; expanded = e; fullState = f
        }

        let limit = config.timelineLimit
        var raw = limit > 0 ? try await events.roomEvents(roomID, after: since ?? 0, upTo: upTo, limit: limit + 1, backwards: true) : []
        let limited = raw.count > limit || (limit == 0 && since.map { s in upTo > s } == true)
        if raw.count > limit { raw.removeLast() }
        raw.reverse()
        let visible = try await historyFilter(roomID, ctx.user.userID).apply(
            raw.filter { !(ctx.ignored.contains($0.event.sender) && !$0.event.isState) })
        let senders = Set(visible.map(\.event.sender))
        let matcher = RequiredStateMatcher(config.requiredState, me: ctx.user.userID, lazyMembers: senders)

        // State changes since the room was last sent; the required state is either those
        // (plus new senders' memberships) or, on a full render, everything it selects.
        var changedSince: Int64?
        if case .incremental(let s, _, _) = mode { changedSince = s }
        let joined = room.membership.membership == "join"
        var changedState: [StoredEvent]?
        if joined, let s = changedSince { changedState = try await events.currentStateChanges(roomID, after: s) }
        var state: [StoredEvent]
        if !joined {
            state = try await events.stateAt(roomID, pos: upTo).filter { matcher.matches($0.event) }
            if let s = changedSince, !fullState { state = state.filter { $0.streamPos > s } }
        } else if let changed = changedState, !fullState {
            // Changes to members the client holds count too, not only to this timeline's senders.
            let changes = RequiredStateMatcher(config.requiredState, me: ctx.user.userID, lazyMembers: senders.union(knownMembers))
            state = changed.filter { changes.matches($0.event) }
            // New senders' memberships may predate the change window: send them with their events.
            let lazy = RequiredStateMatcher(config.requiredState.filter { $0.stateKey == "$LAZY" }, me: ctx.user.userID,
                                            lazyMembers: senders.subtracting(knownMembers))
            let have = Set(state.map(\.event.eventID))
            state += try await lazy.currentState(events, roomID: roomID).filter { !have.contains($0.event.eventID) }
        } else {
            state = try await matcher.currentState(events, roomID: roomID)
        }
        out.merge(try await roomMeta(roomID, viewer: ctx.user.userID, changed: changedState), uniquingKeysWith: { $1 })

        out["required_state"] = .array(try await format(state, roomID: roomID, viewer: ctx.user, includeRoomID: false))
        out["timeline"] = .array(try await format(visible, roomID: roomID, viewer: ctx.user, includeRoomID: false))
        out["limited"] = .bool(limited)
        if let first = raw.first { out["prev_batch"] = .string(StreamToken.make(first.streamPos - 1)) }
        else if since == nil { out["prev_batch"] = .string(StreamToken.make(upTo)) }
        let live = ctx.requestFrom.map { from in visible.filter { $0.streamPos > from }.count } ?? 0
        out["num_live"] = .int(Int64(live))
        if expanded {
            out["expanded_timeline"] = true
            out["unstable_expanded_timeline"] = true
        }
        out["is_dm"] = .bool(ctx.directRooms.contains(roomID))
        if room.membership.membership == "join" {
            let (n, h) = try await mainUnreadCounts(roomID, userID: ctx.user.userID)
            out["unread_notifications"] = ["notification_count": .int(n), "highlight_count": .int(h)]
            out["notification_count"] = .int(n)
            out["highlight_count"] = .int(h)
        }
        let lazyUsed = config.requiredState.contains { $0.type == "m.room.member" && $0.stateKey == "$LAZY" }
        let known: Set<String>
        if case .initial = mode { known = senders } else { known = knownMembers.union(senders) }
        return (.object(out), lazyUsed ? known : [])
    }

    /// Stripped state an invitee may see: the room's description, their invite and the inviter.
    func inviteState(_ m: MembershipRow, viewer: String) async throws -> [JSON] {
        let keep: Set<String> = ["m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar", "m.room.canonical_alias",
                                 "m.room.encryption", "m.room.topic"]
        var out = try await events.currentState(m.roomID, pairs: keep.map { ($0, "") }, anyKeyTypes: []).map { ClientEvent.stripped($0.event) }
        if let invite = try await events.event(m.eventID) {
            out.append(ClientEvent.stripped(invite.event))
            if invite.event.sender != viewer,
               let inviter = try await events.currentStateEvent(m.roomID, type: "m.room.member", stateKey: invite.event.sender) {
                out.append(ClientEvent.stripped(inviter.event))
            }
        }
        return out
    }

    /// Notification and highlight counts over every thread.
    func mainUnreadCounts(_ roomID: String, userID: String) async throws -> (Int64, Int64) {
        let read = try await userData.readUpTo(userID: userID, roomID: roomID)
        let counts = try await userData.unreadCounts(userID: userID, roomID: roomID, readUpTo: read)
        return counts.values.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
    }
}
