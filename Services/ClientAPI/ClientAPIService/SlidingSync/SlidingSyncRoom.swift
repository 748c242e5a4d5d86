import MatrixCore
import ServiceKit
import Storage

/// How much of a room a response carries.
enum RoomRenderMode: Sendable {
    /// Everything, replacing what the client had (`initial`).
    case initial
    /// What changed after the position it was last sent up to; `expandTimeline` resends the
    /// latest events because the timeline limit grew; `addedState` are required-state
    /// selectors the room did not have before, whose state is sent whole (as Synapse does,
    /// only theirs: the client keeps what it got for the others).
    case incremental(since: Int64, expandTimeline: Bool, addedState: Set<StateSelector>)
}

struct RoomRenderContext: Sendable {
    let user: TokenOwner
    let upTo: Int64
    /// The stream position of the request's `pos`: timeline events after it are live.
    let requestFrom: Int64?
    let ignored: Set<String>
    let directRooms: Set<String>
}

/// A page of rooms read and laid out, with its events still to be formatted (`rooms`): the
/// response is finished while the connection's new state is written.
struct RoomPage: Sendable {
    /// Each rendered room's fields but `required_state` and `timeline`.
    var outs: [String: [String: JSON]] = [:]
    /// Per rendered room, the users whose membership the client knows after this response
    /// (timeline senders, when `$LAZY` is asked for).
    var known: [String: Set<String>] = [:]
    /// Rooms with events, and their state and timeline lists (two per room, in this order).
    var order: [String] = []
    var lists: [[StoredEvent]] = []
    var viewer: TokenOwner

    /// The rooms' JSON, every room's events formatted together.
    func rooms(_ api: ClientAPI) async throws -> [String: JSON] {
        var outs = outs
        let formatted = try await api.formatMany(lists, viewer: viewer, includeRoomID: false)
        for (i, roomID) in order.enumerated() {
            outs[roomID]?["required_state"] = .array(formatted[2 * i])
            outs[roomID]?["timeline"] = .array(formatted[2 * i + 1])
        }
        return outs.mapValues { .object($0) }
    }
}

extension ClientAPI {
    /// Reads and lays out a page of rooms (see `RoomPage`).
    func renderRooms(_ jobs: [RenderJob], ctx: RoomRenderContext) async throws -> RoomPage {
        // Joined rooms shown whole take their state from one read for the page, made beside the
        // timelines; the members `$LAZY` selects are the timelines' senders, read after them.
        var matchers: [String: RequiredStateMatcher] = [:]
        for job in jobs where !job.invited && job.joined && job.changedSince == nil {
            let m = RequiredStateMatcher(job.config.requiredState, me: ctx.user.userID, lazyMembers: [])
            if !m.needsWholeState { matchers[job.roomID] = m }
        }
        let selection = PageStateSelection(matchers)
        async let stateRead = prefetchState(jobs: jobs, selection: selection, ctx: ctx)
        var p = try await prefetchTimelines(jobs, ctx: ctx)
        struct Shown {
            var raw: [StoredEvent]
            var visible: [StoredEvent]
            var limited: Bool
            var senders: Set<String>
            /// The room's selectors with `$ME` and `$LAZY` (these senders) resolved.
            var matcher: RequiredStateMatcher
        }
        var shown: [String: Shown] = [:]
        var lazyRooms: [String] = [], lazySenders: Set<String> = []
        for job in jobs where !job.invited {
            let limit = job.config.timelineLimit
            var raw = p.timelines[job.roomID] ?? []
            let limited = raw.count > limit || (limit == 0 && job.timelineSince.map { s in job.upTo(ctx) > s } == true)
            if raw.count > limit { raw.removeLast(raw.count - limit) }
            raw.reverse()
            let filter = p.history[job.roomID]
            let candidates = raw.filter { !(ctx.ignored.contains($0.event.sender) && !$0.event.isState) }
            let visible = filter?.apply(candidates) ?? candidates
            let senders = Set(visible.map(\.event.sender))
            let matcher = RequiredStateMatcher(job.config.requiredState, me: ctx.user.userID, lazyMembers: senders)
            shown[job.roomID] = Shown(raw: raw, visible: visible, limited: limited, senders: senders, matcher: matcher)
            if matchers[job.roomID] != nil, job.usesLazyMembers {
                lazyRooms.append(job.roomID)
                lazySenders.formUnion(senders)
            }
        }
        let pageState = try await stateRead
        (p.state, p.summaries, p.unread) = (pageState.state, pageState.summaries, pageState.unread)
        try await prefetchMembers(&p, rooms: lazyRooms, senders: lazySenders, selection: selection)

        var outs: [String: [String: JSON]] = [:]
        var stateLists: [String: [StoredEvent]] = [:]
        var known: [String: Set<String>] = [:]
        for job in jobs {
            let roomID = job.roomID
            var out: [String: JSON] = [:]
            if case .initial = job.mode { out["initial"] = true }
            if job.invited {
                let stripped = try await inviteState(job.room.membership, viewer: ctx.user.userID)
                out["invite_state"] = .array(stripped)
                // The name an invitee may see is the one in the stripped state.
                if let n = stripped.first(where: { $0["type"]?.stringValue == "m.room.name" })?["content"]?["name"]?.stringValue,
                   !n.isEmpty {
                    out["name"] = .string(n)
                }
                if ctx.directRooms.contains(roomID) { out["is_dm"] = true }
                outs[roomID] = out
                known[roomID] = []
                continue
            }
            guard let sh = shown[roomID] else { continue }
            let upTo = job.upTo(ctx)
            // State changes since the room was last sent; the required state is either those
            // (plus new senders' memberships) or, on a full render, everything it selects.
            var changedState: [StoredEvent]?
            if job.joined, let s = job.changedSince { changedState = try await events.currentStateChanges(roomID, after: s) }
            let matcher = sh.matcher
            var state: [StoredEvent]
            if !job.joined {
                state = try await events.stateAt(roomID, pos: upTo).filter { matcher.matches($0.event) }
                if let s = job.changedSince {
                    let added = RequiredStateMatcher(job.addedState, me: ctx.user.userID, lazyMembers: sh.senders)
                    state = state.filter { $0.streamPos > s || added.matches($0.event) }
                }
            } else if let changed = changedState {
                // Changes to members the client holds count too, not only to this timeline's senders.
                let changes = RequiredStateMatcher(job.config.requiredState, me: ctx.user.userID,
                                                   lazyMembers: sh.senders.union(job.knownMembers))
                state = changed.filter { changes.matches($0.event) }
                // New senders' memberships may predate the change window: send them with their events.
                let lazy = RequiredStateMatcher(job.config.requiredState.filter { $0.stateKey == "$LAZY" }, me: ctx.user.userID,
                                                lazyMembers: sh.senders.subtracting(job.knownMembers))
                var have = Set(state.map(\.event.eventID))
                state += try await lazy.currentState(events, roomID: roomID).filter { have.insert($0.event.eventID).inserted }
                if !job.addedState.isEmpty {
                    let added = RequiredStateMatcher(job.addedState, me: ctx.user.userID, lazyMembers: sh.senders)
                    state += try await added.currentState(events, roomID: roomID).filter { have.insert($0.event.eventID).inserted }
                }
            } else if matchers[roomID] != nil {
                state = (p.state[roomID] ?? []).filter { matcher.matches($0.event) }
            } else {
                state = try await matcher.currentState(events, roomID: roomID)
            }
            out.merge(roomMeta(roomID, prefetch: p, changed: changedState), uniquingKeysWith: { $1 })
            stateLists[roomID] = state
            out["limited"] = .bool(sh.limited)
            if let first = sh.raw.first { out["prev_batch"] = .string(StreamToken.make(first.streamPos - 1)) }
            else if job.timelineSince == nil { out["prev_batch"] = .string(StreamToken.make(upTo)) }
            let live = ctx.requestFrom.map { from in sh.visible.filter { $0.streamPos > from }.count } ?? 0
            out["num_live"] = .int(Int64(live))
            if case .incremental(_, true, _) = job.mode {
                out["expanded_timeline"] = true
                out["unstable_expanded_timeline"] = true
            }
            out["is_dm"] = .bool(ctx.directRooms.contains(roomID))
            if job.joined {
                let (n, h) = p.unread[roomID] ?? (0, 0)
                out["unread_notifications"] = ["notification_count": .int(n), "highlight_count": .int(h)]
                out["notification_count"] = .int(n)
                out["highlight_count"] = .int(h)
            }
            outs[roomID] = out
            let nowKnown: Set<String>
            if case .initial = job.mode { nowKnown = sh.senders } else { nowKnown = job.knownMembers.union(sh.senders) }
            known[roomID] = job.usesLazyMembers ? nowKnown : []
        }

        let order = Array(stateLists.keys)
        return RoomPage(outs: outs, known: known, order: order,
                        lists: order.flatMap { [stateLists[$0] ?? [], shown[$0]?.visible ?? []] }, viewer: ctx.user)
    }

    /// Stripped state an invitee (or knocker) may see: the room's description, their invite
    /// (or knock) and the inviter.
    func inviteState(_ m: MembershipRow, viewer: String) async throws -> [JSON] {
        let keep: Set<String> = ["m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar", "m.room.canonical_alias",
                                 "m.room.encryption", "m.room.topic"]
        if let remote = try await remoteInviteState(m.roomID, user: viewer, eventID: m.eventID) { return remote }
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
}
