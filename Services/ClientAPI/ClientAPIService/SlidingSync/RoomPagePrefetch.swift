import MatrixCore
import ServiceKit
import Storage

/// One room to render in a response, with how much of it to send.
struct RenderJob: Sendable {
    let room: ListedRoom
    let config: RoomConfig
    let mode: RoomRenderMode
    /// Users whose membership the client already holds from earlier responses.
    let knownMembers: Set<String>

    var roomID: String { room.roomID }
    var joined: Bool { room.membership.membership == "join" }
    /// Invites and knocks: the user sees only the room's stripped state.
    var invited: Bool { room.strippedOnly }

    /// A room the user left is shown up to the leave.
    func upTo(_ ctx: RoomRenderContext) -> Int64 { joined ? ctx.upTo : min(ctx.upTo, room.membership.streamPos) }

    /// Timeline events after this position are new to the client (nil: send the latest).
    var timelineSince: Int64? {
        switch mode {
        case .initial: return nil
        case .incremental(let s, let expand, _): return expand ? nil : s
        }
    }

    /// Selectors whose state is sent whole although the room was sent before.
    var addedState: Set<StateSelector> {
        if case .incremental(_, _, let added) = mode { return added }
        return []
    }

    /// `required_state` asks for the timeline senders' memberships.
    var usesLazyMembers: Bool { config.requiredState.contains { $0.type == "m.room.member" && $0.stateKey == "$LAZY" } }

    var changedSince: Int64? {
        if case .incremental(let s, _, _) = mode { return s }
        return nil
    }
}

/// What a page of rooms needs from the database, read with a fixed number of queries for
/// the whole page: a room list of 20 rooms costs about as many round trips as one room.
struct RoomPagePrefetch: Sendable {
    /// Newest first, one more than the timeline limit (to tell `limited`).
    var timelines: [String: [StoredEvent]] = [:]
    var history: [String: HistoryFilter] = [:]
    /// Current state of the selected types and members.
    var state: [String: [StoredEvent]] = [:]
    var summaries: [String: RoomSummaryRow] = [:]
    var unread: [String: (Int64, Int64)] = [:]

    func stateEvent(_ roomID: String, _ type: String, _ key: String = "") -> StoredEvent? {
        state[roomID]?.first { $0.event.type == type && $0.event.stateKey == key }
    }

    /// `m.room.name`, when set and not empty.
    func name(_ roomID: String) -> String? {
        stateEvent(roomID, "m.room.name")?.event.content["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// What one read of current state fetches for a page: every type any room selects with any
/// state key (plus name and avatar), and the members any room names (`$ME` resolved).
struct PageStateSelection: Sendable {
    var types: Set<String> = ["m.room.name", "m.room.avatar"]
    var members: Set<String> = []

    init(_ matchers: [String: RequiredStateMatcher]) {
        for m in matchers.values {
            types.formUnion(m.anyKeyTypes)
            for pair in m.pairs {
                if pair.type == "m.room.member" { members.insert(pair.stateKey) } else { types.insert(pair.type) }
            }
        }
    }
}

extension ClientAPI {
    /// Timelines and history visibility of every room that shows events.
    func prefetchTimelines(_ jobs: [RenderJob], ctx: RoomRenderContext) async throws -> RoomPagePrefetch {
        var p = RoomPagePrefetch()
        let shown = jobs.filter { !$0.invited }
        async let timelines = sharedReads.latestEvents(shown.map {
            TimelineSlice(roomID: $0.roomID, after: $0.timelineSince ?? 0, upTo: $0.upTo(ctx), limit: $0.config.timelineLimit + 1)
        })
        async let history = HistoryFilter.loadMany(self, rooms: shown.map(\.roomID), userID: ctx.user.userID, asOf: ctx.upTo)
        p.timelines = try await timelines
        p.history = try await history
        return p
    }

    /// Current state the page's read selects (`selection`), the rooms' member counts, heroes
    /// (used for unnamed rooms) and unread counts, read side by side.
    func prefetchState(jobs: [RenderJob], selection: PageStateSelection,
                       ctx: RoomRenderContext) async throws -> RoomPagePrefetch {
        let shown = jobs.filter { !$0.invited }.map(\.roomID)
        async let state = events.currentState(rooms: shown, types: Array(selection.types), members: Array(selection.members))
        async let summaries = rooms.summaries(shown, viewer: ctx.user.userID, heroLimit: 5)
        async let unread = syncBatches.unreadTotals(userID: ctx.user.userID, rooms: jobs.filter(\.joined).map(\.roomID))
        var p = RoomPagePrefetch()
        p.state = try await state
        p.summaries = try await summaries
        p.unread = try await unread
        return p
    }

    /// Adds the memberships of `senders` in `rooms` to the prefetched state (for `$LAZY`),
    /// but for those the page's read of state (`selection`) fetched already.
    func prefetchMembers(_ p: inout RoomPagePrefetch, rooms: [String], senders: Set<String>,
                         selection: PageStateSelection) async throws {
        if selection.types.contains("m.room.member") { return }
        let missing = senders.subtracting(selection.members)
        guard !rooms.isEmpty, !missing.isEmpty else { return }
        for (roomID, found) in try await events.currentState(rooms: rooms, types: [], members: Array(missing)) {
            var have = Set((p.state[roomID] ?? []).map(\.event.eventID))
            p.state[roomID, default: []] += found.filter { have.insert($0.event.eventID).inserted }
        }
    }
}
