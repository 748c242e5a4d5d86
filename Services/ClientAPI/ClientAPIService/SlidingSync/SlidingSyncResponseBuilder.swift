import MatrixCore
import ServiceKit
import Storage

/// One sliding sync response between the connection's state and a stream position, with
/// the connection state it leaves behind.
struct SlidingSyncBuild: Sendable {
    /// The response but its `rooms`, which `page` yields.
    var body: [String: JSON]
    var page: RoomPage
    /// Rooms whose sent state changes when this response is kept.
    var records: [SlidingSyncRoomRecord]
    var listCounts: String
    var hasNews: Bool
    /// Rooms whose activity should end a long-poll.
    var watchRooms: Set<String>
}

extension ClientAPI {
    /// `memberships` and `activity` are the user's rooms as `RoomsStore.roomList` read them.
    func buildSlidingSync(_ req: SlidingSyncRequest, user: TokenOwner, from: Int64?, upTo: Int64,
                          memberships: [MembershipRow], activity: [String: Int64], settings: UserListSettings,
                          sent: [String: SlidingSyncRoomRecord], previousCounts: String) async throws -> SlidingSyncBuild {
        let (ignored, direct) = (settings.ignored, settings.direct)
        let all = listedRooms(memberships, activity: activity, upTo: upTo, from: from, sent: Set(sent.keys), ignored: ignored)
        let sel = try await selectLists(req, all: all, direct: direct)
        var configs = sel.configs
        var listed = sel.rooms
        for (roomID, cfg) in req.subscriptions {
            if listed[roomID] == nil {
                // Subscriptions reach only rooms the user is or was in.
                guard let m = try await rooms.membership(roomID, user.userID), m.streamPos <= upTo,
                      ["join", "invite", "knock", "leave", "ban"].contains(m.membership) else { continue }
                listed[roomID] = ListedRoom(membership: m, activity: m.streamPos)
            }
            configs[roomID] = configs[roomID].map { $0.merged(cfg) } ?? cfg
        }

        // Where rooms sent before stand now, to tell which changed (none on a new connection).
        let sentBefore = configs.keys.filter { sent[$0] != nil }
        async let lastPosRead = events.lastPositions(sentBefore)
        var ownReceipts = Set<String>(), dmChanged = false
        if let from {
            let joined = configs.keys.filter { listed[$0]?.membership.membership == "join" }
            // Reading elsewhere changes the unread counts.
            async let receiptsRead = userData.receipts(rooms: joined, since: from, upTo: upTo)
            async let accountDataRead = userData.accountDataChanges(user.userID, since: from, upTo: upTo)
            ownReceipts = Set(try await receiptsRead.filter { $0.userID == user.userID }.map(\.roomID))
            dmChanged = try await accountDataRead.contains { $0.0 == "" && $0.1 == "m.direct" }
        }
        let lastPos = try await lastPosRead
        let ctx = RoomRenderContext(user: user, upTo: upTo, requestFrom: from, ignored: ignored,
                                    directRooms: sel.directRooms)
        var jobs: [RenderJob] = []
        var records: [SlidingSyncRoomRecord] = []
        var initialRooms = Set<String>()
        var memo = RoomConfigMemo()
        for (roomID, cfg) in configs.sorted(by: { $0.key < $1.key }) {
            guard let room = listed[roomID] else { continue }
            let mode: RoomRenderMode
            if let rec = sent[roomID], !(room.membership.membership == "join" && room.membership.streamPos > rec.sentUpTo) {
                let prev = memo.decoded(rec.config)
                let expand = cfg.timelineLimit > prev.timelineLimit && !room.strippedOnly
                let added = room.strippedOnly ? [] : cfg.requiredState.subtracting(prev.requiredState)
                let changed: Bool
                switch room.membership.membership {
                case "join": changed = min(lastPos[roomID] ?? 0, upTo) > rec.sentUpTo || ownReceipts.contains(roomID) || dmChanged
                default: changed = room.membership.streamPos > rec.sentUpTo || dmChanged
                }
                guard changed || expand || !added.isEmpty else {
                    let encoded = memo.encoded(cfg)
                    if encoded != rec.config {
                        records.append(SlidingSyncRoomRecord(roomID: roomID, sentUpTo: rec.sentUpTo, config: encoded,
                                                             lazyMembers: rec.lazyMembers))
                    }
                    continue
                }
                mode = .incremental(since: rec.sentUpTo, expandTimeline: expand, addedState: added)
            } else {
                // Never sent, or joined since it was sent as an invite: the client needs all of it.
                mode = .initial
                initialRooms.insert(roomID)
            }
            let known: Set<String>
            if case .initial = mode { known = [] } else { known = sent[roomID]?.lazyMembers ?? [] }
            jobs.append(RenderJob(room: room, config: cfg, mode: mode, knownMembers: known))
        }
        let jobRooms = jobs.map(\.room)
        async let stampsRead = bumpStamps(jobRooms, upTo: upTo)
        var page = try await renderRooms(jobs, ctx: ctx)
        let stamps = try await stampsRead
        for job in jobs {
            guard let nowKnown = page.known[job.roomID] else { continue }
            page.outs[job.roomID]?["bump_stamp"] = .int(stamps[job.roomID] ?? job.room.membership.streamPos)
            records.append(SlidingSyncRoomRecord(roomID: job.roomID, sentUpTo: upTo, config: memo.encoded(job.config), lazyMembers: nowKnown))
        }

        let joined = Set(listed.values.filter { $0.membership.membership == "join" }.map(\.roomID))
        let scope = ExtensionScope(user: user, from: from, upTo: upTo, windows: sel.windows,
                                   subscribed: Array(req.subscriptions.keys), initialRooms: initialRooms, joined: joined)
        let ext = try await slidingSyncExtensions(req.extensions, scope: scope)
        let counts = JSON.object(sel.counts.mapValues { .int(Int64($0)) }).canonicalString
        var body: [String: JSON] = [
            "lists": .object(sel.counts.mapValues { ["count": .int(Int64($0))] }),
            "extensions": .object(ext),
        ]
        if let txn = req.txnID { body["txn_id"] = .string(txn) }
        let hasNews = !page.outs.isEmpty || Self.extensionsHaveNews(ext) || counts != previousCounts
        return SlidingSyncBuild(body: body, page: page, records: records, listCounts: counts, hasNews: hasNews,
                                watchRooms: Set(all.map(\.roomID)).union(configs.keys))
    }
}
