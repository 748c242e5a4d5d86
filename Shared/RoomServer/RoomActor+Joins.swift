import MatrixCore
import Storage

/// The room side of membership handshakes with other servers: templates for their joins
/// and leaves, rooms joined through another server, and memberships of rooms this server
/// is not in (invites from other servers, rejected invites).
extension RoomActor {
    /// The unsigned event `req` would be, for another server to finish and sign
    /// (`make_join`, `make_leave`), once it passes the auth rules against the current state.
    func template(_ req: EventRequest) async throws -> (JSON, RoomVersion) {
        let snap = try await freshSnapshot()
        try req.precondition?(RoomState(roomID: roomID, version: snap.version, state: snap.state))
        var json = unsignedEvent(req, on: snap)
        json["origin"] = .string(server.serverName.rawValue)
        // The auth rules read no signatures (bar third-party invites), so the unsigned form
        // says whether the finished event will pass.
        var probe = json
        if snap.version.eventIDFormat == .v1 { probe["event_id"] = .string("$probe:\(server.serverName.rawValue)") }
        // A restricted join carries our signature by the time it is checked for real.
        probe["signatures"] = [server.serverName.rawValue: ["ed25519:probe": "probe"]]
        let event = Event(eventID: "$probe", json: .object(probe))
        do {
            try AuthRules.check(event: event, authEvents: AuthRules.stateForCheck(of: event, in: snap.state, roomVersion: snap.version),
                                roomVersion: snap.version)
        } catch {
            throw RoomServerError.forbidden("\(error)")
        }
        return (.object(json), snap.version)
    }

    /// Stores a room joined through another server: the auth chain out of sight, the state
    /// the resident server sent as state only, then the join, which starts the timeline.
    /// Everything was checked by the caller. Events known already are not stored again.
    func importJoin(version: RoomVersion, join: Event, state: [Event], authChain: [Event]) async throws -> EventResult {
        for _ in 0..<4 {
            let existing = try await snapshotIfKnown()
            let all = authChain.map(\.eventID) + state.map(\.eventID) + [join.eventID]
            let known = try await server.inbox.known(all)
            if known.contains(join.eventID), let stored = try await server.store.event(join.eventID) {
                return EventResult(event: stored.event, streamPos: stored.streamPos)
            }
            let stateIDs = Set(state.map(\.eventID))
            var seen = known
            let outliers = authChain.filter { !stateIDs.contains($0.eventID) && seen.insert($0.eventID).inserted }
                .sorted { $0.depth < $1.depth }
                .map { NewEvent(event: $0, json: $0.json.canonicalString, updatesState: false, txn: nil, pushActions: [],
                                placement: .outlier) }
            let stateEvents = state.filter { seen.insert($0.eventID).inserted }.sorted { $0.depth < $1.depth }
                .map { NewEvent(event: $0, json: $0.json.canonicalString, updatesState: true, txn: nil, pushActions: [],
                                placement: .stateOnly) }
            let knownState = state.filter { known.contains($0.eventID) }
            guard let create = state.first(where: { $0.stateTuple == .create }) else {
                throw RoomServerError.invalid("the room state has no create event")
            }
            let write = RoomWrite(
                roomID: roomID, expectedLastPos: existing?.lastPos,
                createRoom: existing == nil ? (version.id, create.sender) : nil,
                events: outliers + stateEvents + [NewEvent(event: join, json: join.json.canonicalString, updatesState: true,
                                                           txn: nil, pushActions: [])],
                extremities: [join.eventID], stateChanges: knownState)
            guard let pos = try await persistOrStale(write)?.last else { snapshot = nil; continue }
            snapshot = nil
            server.onCommit([CommittedEvent(event: join, streamPos: pos, pushActions: [])])
            return EventResult(event: join, streamPos: pos)
        }
        throw RoomServerError.conflict
    }

    /// Stores a membership of one of our users in a room this server is not in: an invite
    /// from another server, or the leave that rejected one. It updates the user's
    /// membership (and so their sync) without a timeline.
    func storeMembershipOutsideRoom(version: RoomVersion, event: Event) async throws -> EventResult {
        for _ in 0..<4 {
            if let stored = try await server.store.event(event.eventID) {
                return EventResult(event: stored.event, streamPos: stored.streamPos)
            }
            let existing = try await snapshotIfKnown()
            let write = RoomWrite(
                roomID: roomID, expectedLastPos: existing?.lastPos,
                createRoom: existing == nil ? (version.id, event.sender) : nil,
                events: [NewEvent(event: event, json: event.json.canonicalString, updatesState: true, txn: nil, pushActions: [],
                                  placement: .stateOnly)],
                extremities: existing?.extremities ?? [])
            guard let pos = try await persistOrStale(write)?.last else { snapshot = nil; continue }
            snapshot = nil
            server.onCommit([CommittedEvent(event: event, streamPos: pos, pushActions: [])])
            return EventResult(event: event, streamPos: pos)
        }
        throw RoomServerError.conflict
    }

    /// The snapshot, or nil for a room with no row yet.
    private func snapshotIfKnown() async throws -> Snapshot? {
        do {
            return try await freshSnapshot()
        } catch RoomServerError.unknownRoom {
            return nil
        }
    }
}
