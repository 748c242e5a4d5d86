import MatrixCore
import Storage

/// What became of an event another server sent.
public enum RemoteEventOutcome: Sendable {
    /// Stored in the room; `stateBefore` is the state it was checked against.
    case accepted(EventResult, stateBefore: StateMap)
    /// Already stored, or already rejected.
    case duplicate
    /// Failed the auth rules at its auth events or at the state before it.
    case rejected(String)
    /// Passed those, but fails against the room's current state: stored out of sight.
    case softFailed(String)
    /// Some of its auth events are unknown here: fetch and store them, then try again.
    case missingAuthEvents([String])
}

/// Events from other servers: the auth checks that need the room's state (the spec's
/// "Checks performed on receipt of a PDU", steps 4–6; signatures and hashes are checked
/// before), then the same persist and notify path as local events.
extension RoomActor {
    /// `gapState` is the state before the event as a server in the room reported it, for an
    /// event whose prev events could not all be fetched (its own auth events checked and
    /// stored by the caller); without it, the prev events stored here give that state.
    func processRemote(_ event: Event, gapState: StateMap? = nil) async throws -> RemoteEventOutcome {
        for attempt in 0..<4 {
            if attempt > 0 { snapshot = nil }
            let snap = try await freshSnapshot()
            if !(try await server.inbox.known([event.eventID])).isEmpty { return .duplicate }
            guard event.type != "m.room.create" else { return try await reject(event, "the room already has a create event") }
            guard event.roomID == roomID else { return try await reject(event, "the event is for another room") }

            // 4. Against its own auth events.
            let authIDs = event.authEventIDs
            let (authList, missing, rejectedAuth) = try await loadAuthEvents(authIDs)
            if let bad = rejectedAuth { return try await reject(event, "its auth event \(bad) was rejected") }
            if !missing.isEmpty { return .missingAuthEvents(missing) }
            var authEvents: StateMap = [:]
            for e in authList { if let k = e.stateTuple { authEvents[k] = e } }
            if let create = snap.state[.create] { authEvents[.create] = create }
            do {
                try AuthRules.checkAuthEventsSelection(event: event, authEvents: authList, roomVersion: snap.version)
                try AuthRules.check(event: event, authEvents: authEvents, roomVersion: snap.version)
            } catch {
                return try await reject(event, "auth events: \(error)")
            }

            // 5. Against the state before it.
            let prevIDs = event.prevEventIDs
            let linear = !prevIDs.isEmpty && Set(prevIDs) == Set(snap.extremities)
            let stateBefore: StateMap
            if linear {
                stateBefore = snap.state
            } else if let gapState {
                stateBefore = gapState
            } else {
                stateBefore = try await self.stateBefore(prevIDs, snap)
            }
            if let failure = authFailure(event, stateBefore, snap.version) {
                return try await reject(event, "state before the event: \(failure)")
            }

            // 6. Against the current state.
            if !linear, let failure = authFailure(event, snap.state, snap.version) {
                return try await softFail(event, "current state: \(failure)")
            }
            if let refusal = try await redactionRefusal(event, snap) { return try await softFail(event, refusal) }

            // The new current state: the event on top, or resolved when it came off a fork.
            var newState = snap.state
            var updatesState = event.isState
            var stateChanges: [Event] = []
            if linear {
                if let k = event.stateTuple { newState[k] = event }
            } else {
                var after = stateBefore
                if let k = event.stateTuple { after[k] = event }
                newState = try await resolve([snap.state, after], snap.version)
                updatesState = event.stateTuple.map { newState[$0]?.eventID == event.eventID } ?? false
                stateChanges = newState.compactMap { key, e in
                    snap.state[key]?.eventID != e.eventID && e.eventID != event.eventID ? e : nil
                }
            }
            let extremities = snap.extremities.filter { !prevIDs.contains($0) } + [event.eventID]
            let room = RoomState(roomID: roomID, version: snap.version, state: newState)
            let push = try await server.pushActions([(event, room)]).first ?? .none
            let write = RoomWrite(
                roomID: roomID, expectedLastPos: snap.lastPos, createRoom: nil,
                events: [NewEvent(event: event, json: event.json.canonicalString, updatesState: updatesState, txn: nil,
                                  pushActions: push.rows, pushRecipients: push.recipients)],
                extremities: extremities, stateChanges: stateChanges)
            guard let pos = try await persistOrStale(write)?.last else {
                server.logger.debug("room \(roomID) changed elsewhere; rechecking \(event.eventID)")
                continue
            }
            var next = snap
            next.lastPos = pos
            next.state = newState
            next.extremities = extremities
            next.extremityHashes = next.extremityHashes.filter { !prevIDs.contains($0.key) }
            next.extremityHashes[event.eventID] = event.json["hashes"] ?? [:]
            next.depth = max(next.depth, event.depth)
            snapshot = next
            server.onCommit([CommittedEvent(event: event, streamPos: pos, pushActions: push.rows)])
            return .accepted(EventResult(event: event, streamPos: pos), stateBefore: stateBefore)
        }
        throw RoomServerError.conflict
    }

    /// Stores auth events of events from other servers (already checked by the caller), out
    /// of the timeline and the state. Events stored already are skipped.
    func storeOutliers(_ events: [Event]) async throws {
        for _ in 0..<4 {
            let snap = try await freshSnapshot()
            let known = try await server.inbox.known(events.map(\.eventID))
            var seen = Set<String>()
            let fresh = events.filter { !known.contains($0.eventID) && seen.insert($0.eventID).inserted }
                .sorted { $0.depth < $1.depth }
            guard !fresh.isEmpty else { return }
            let write = RoomWrite(
                roomID: roomID, expectedLastPos: snap.lastPos, createRoom: nil,
                events: fresh.map { NewEvent(event: $0, json: $0.json.canonicalString, updatesState: false, txn: nil,
                                             pushActions: [], placement: .outlier) },
                extremities: snap.extremities)
            if let pos = try await persistOrStale(write)?.last {
                snapshot?.lastPos = pos
                return
            }
            snapshot = nil
        }
        throw RoomServerError.conflict
    }

    /// The events among `ids` that are stored (including soft-failed ones), those that are
    /// not, and the first that was rejected.
    private func loadAuthEvents(_ ids: [String]) async throws -> ([Event], [String], String?) {
        let stored = try await server.store.events(ids).map(\.event)
        let found = Set(stored.map(\.eventID))
        let rest = ids.filter { !found.contains($0) }
        let rejected = try await server.inbox.rejected(rest)
        if let bad = rest.first(where: { rejected[$0] == true }) { return (stored, [], bad) }
        var list = stored
        var missing: [String] = []
        for id in rest {
            if rejected[id] == false, let soft = try await server.inbox.rejectedEvent(id) {
                list.append(soft.event)
            } else {
                missing.append(id)
            }
        }
        return (list, missing, nil)
    }

    /// The state before an event whose prev events are not exactly the room's forward
    /// extremities: each known prev event's state, resolved together when there are several.
    /// Prev events not stored here are left out (their branches are unknown).
    private func stateBefore(_ prevIDs: [String], _ snap: Snapshot) async throws -> StateMap {
        let prevs = try await server.store.events(prevIDs).filter { $0.event.roomID == roomID }
        guard !prevs.isEmpty else { return snap.state }
        var maps: [StateMap] = []
        for p in prevs { maps.append(try await server.store.stateMap(roomID, atPos: p.streamPos)) }
        return maps.count == 1 ? maps[0] : try await resolve(maps, snap.version)
    }

    private func resolve(_ maps: [StateMap], _ version: RoomVersion) async throws -> StateMap {
        let chain = try await server.store.authChainEvents(of: maps.flatMap { $0.values.flatMap(\.authEventIDs) })
        return StateResolution.resolve(stateMaps: maps, authChainEvents: chain, roomVersion: version)
    }

    private func authFailure(_ event: Event, _ state: StateMap, _ version: RoomVersion) -> String? {
        do {
            try AuthRules.check(event: event, authEvents: AuthRules.stateForCheck(of: event, in: state, roomVersion: version),
                                roomVersion: version)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// A redaction the auth rules allow may still not apply to its target (rooms v3+):
    /// such a redaction is kept out of sight rather than erasing someone else's event.
    private func redactionRefusal(_ event: Event, _ snap: Snapshot) async throws -> String? {
        guard event.type == "m.room.redaction", let target = event.redacts,
              let stored = try await server.store.event(target), stored.event.roomID == roomID else { return nil }
        let pl = PowerLevels(state: snap.state, roomVersion: snap.version)
        if AuthRules.mayApplyRedaction(event, to: stored.event, powerLevels: pl, roomVersion: snap.version) { return nil }
        return "\(event.sender) may not redact \(target)"
    }

    private func reject(_ event: Event, _ reason: String) async throws -> RemoteEventOutcome {
        try await server.inbox.reject(event, reason: reason, softFailed: false)
        server.logger.info("rejected \(event.eventID) in \(roomID): \(reason)")
        return .rejected(reason)
    }

    private func softFail(_ event: Event, _ reason: String) async throws -> RemoteEventOutcome {
        try await server.inbox.reject(event, reason: reason, softFailed: true)
        server.logger.info("soft-failed \(event.eventID) in \(roomID): \(reason)")
        return .softFailed(reason)
    }

    /// Persists one write; nil when another process wrote the room first.
    func persistOrStale(_ write: RoomWrite) async throws -> [Int64]? {
        do {
            switch try await server.persister.persist(write) {
            case .committed(let positions): return positions
            case .stale: return nil
            }
        } catch {
            snapshot = nil
            throw error
        }
    }
}
