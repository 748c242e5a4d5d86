import Logging
import Metrics
import MatrixCore
import Storage

/// Serialises writes to one room in this process and batches them: every request that
/// arrives while a commit is in flight is built on top of the cached state and committed
/// together. The cache (current state, extremities, depth, last position) is checked against
/// Postgres inside the commit; if another process wrote the room meanwhile, it reloads and retries.
actor RoomActor {
    let roomID: String
    let server: RoomServerCore
    var snapshot: Snapshot?
    /// Local sends (batched together) and other work on the room (events from other
    /// servers, joins over federation), run one after another in arrival order.
    private var pending: [Pending] = []
    private var running = false

    enum Pending {
        case send(EventRequest, CheckedContinuation<EventResult, any Error>)
        case task(@Sendable () async -> Void)
    }
    /// Recent client transactions, so a retried send racing the first one returns the same event.
    private var recentTxns: [String: EventResult] = [:]

    struct Snapshot {
        var version: RoomVersion
        var lastPos: Int64?
        var state: StateMap
        var extremities: [String]
        /// Content hashes of the extremities, for v1/v2 `prev_events` pairs.
        var extremityHashes: [String: JSON]
        var depth: Int64
    }

    init(roomID: String, server: RoomServerCore) {
        self.roomID = roomID
        self.server = server
    }

    /// Seeds a room that does not exist yet (room creation).
    func seedNew(version: RoomVersion) {
        snapshot = Snapshot(version: version, lastPos: nil, state: [:], extremities: [], extremityHashes: [:], depth: 0)
    }

    func submit(_ r: EventRequest) async throws -> EventResult {
        try await withCheckedThrowingContinuation { c in
            pending.append(.send(r, c))
            startDraining()
        }
    }

    /// Runs `body` on the actor once everything queued before it is done, and nothing else
    /// writes the room meanwhile.
    func exclusively<T: Sendable>(_ body: @escaping @Sendable (isolated RoomActor) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            pending.append(.task({ [self] in
                do { c.resume(returning: try await body(self)) } catch { c.resume(throwing: error) }
            }))
            startDraining()
        }
    }

    private func startDraining() {
        if !running {
            running = true
            Task { await self.drain() }
        }
    }

    /// Submits several requests that must commit together or not at all (room creation).
    func submitAtomically(_ rs: [EventRequest], creator: String) async throws -> [EventResult] {
        while running { await Task.yield() }
        running = true
        defer { running = false; if !pending.isEmpty { startDraining() } }
        let (built, results) = try await buildAndCommit(rs.map { ($0, nil) }, createBy: creator, atomic: true)
        _ = built
        return try results.map { try $0.get() }
    }

    func cachedState() async throws -> RoomState {
        // Another process may have written the room since the cache was loaded.
        if let cached = snapshot?.lastPos, try await server.store.lastPos(roomID) != cached { snapshot = nil }
        let s = try await loadedSnapshot()
        return RoomState(roomID: roomID, version: s.version, state: s.state)
    }

    func invalidate() { snapshot = nil }

    /// The cached snapshot, reloaded first if another process wrote the room since.
    func freshSnapshot() async throws -> Snapshot {
        if let cached = snapshot?.lastPos, try await server.store.lastPos(roomID) != cached { snapshot = nil }
        return try await loadedSnapshot()
    }

    func loadedSnapshot() async throws -> Snapshot {
        if let snapshot { return snapshot }
        guard let snap = try await server.store.loadSnapshot(roomID) else { throw RoomServerError.unknownRoom }
        guard let version = RoomVersion.named(snap.version) else { throw RoomServerError.invalid("unsupported room version") }
        var hashes: [String: JSON] = [:]
        if version.eventIDFormat == .v1 {
            for e in try await server.store.events(snap.extremities) { hashes[e.event.eventID] = e.event.json["hashes"] ?? [:] }
        }
        let s = Snapshot(version: version, lastPos: snap.lastPos, state: snap.state, extremities: snap.extremities,
                         extremityHashes: hashes, depth: snap.maxDepth)
        snapshot = s
        return s
    }

    private func drain() async {
        while !pending.isEmpty {
            if case .task(let work) = pending[0] {
                pending.removeFirst()
                await work()
                continue
            }
            // Every local send up to the next task goes into one batch.
            var batch: [(EventRequest, CheckedContinuation<EventResult, any Error>)] = []
            while let first = pending.first, case .send(let r, let c) = first {
                batch.append((r, c))
                pending.removeFirst()
            }
            do {
                let (_, results) = try await buildAndCommit(batch.map { ($0.0, $0.1) }, createBy: nil, atomic: false)
                for (item, r) in zip(batch, results) { item.1.resume(with: r) }
            } catch {
                for item in batch { item.1.resume(throwing: error) }
            }
        }
        running = false
    }

    /// Builds every request on the cached state, commits the ones that pass auth, and returns
    /// a result per request. Retries on a stale cache.
    private func buildAndCommit(
        _ items: [(EventRequest, CheckedContinuation<EventResult, any Error>?)], createBy: String?, atomic: Bool
    ) async throws -> ([NewEvent], [Result<EventResult, any Error>]) {
        for attempt in 0..<4 {
            if attempt > 0 { try await loadCommittedTxns(items.compactMap(\.0.txn)) }
            var snap = try await loadedSnapshot()
            let start = snap
            var results: [Result<EventResult, any Error>?] = Array(repeating: nil, count: items.count)
            var built: [(Int, NewEvent)] = []
            var statesAfter: [StateMap] = []
            var seenInBatch: [String: Int] = [:]
            var duplicates: [(Int, Int)] = []
            for (i, (req, _)) in items.enumerated() {
                if let key = req.txn.map(Self.txnKey) {
                    if let prev = recentTxns[key] { results[i] = .success(prev); continue }
                    if let first = seenInBatch[key] { duplicates.append((i, first)); continue }
                    seenInBatch[key] = i
                }
                do {
                    let ne = try build(req, on: &snap)
                    built.append((i, ne))
                    statesAfter.append(snap.state)
                } catch {
                    if atomic { throw error }
                    results[i] = .failure(error)
                }
            }
            // A refused request may retry a client transaction committed earlier (the room
            // changed since, or it went through another process): it gets the stored event,
            // as any retry does. Sends are not checked against storage before they get here.
            let refusedTxns = items.indices.compactMap { i -> TxnRef? in
                guard case .failure? = results[i] else { return nil }
                return items[i].0.txn
            }
            if !refusedTxns.isEmpty {
                try await loadCommittedTxns(refusedTxns)
                for i in items.indices {
                    if case .failure? = results[i], let t = items[i].0.txn, let stored = recentTxns[Self.txnKey(t)] {
                        results[i] = .success(stored)
                    }
                }
            }
            if built.isEmpty {
                // Everything was refused against the cache, and no commit will check it: make
                // sure another process has not changed the room (a join, new power levels)
                // before refusing for good.
                let refused = results.contains { if case .failure = $0 { true } else { false } }
                if refused, let cached = start.lastPos, try await server.store.lastPos(roomID) != cached {
                    snapshot = nil
                    server.logger.debug("room \(roomID) changed elsewhere; rechecking refused events (attempt \(attempt + 1))")
                    continue
                }
                for (dup, first) in duplicates { results[dup] = results[first] }
                return ([], results.map { $0! })
            }
            // Push rules read per-user settings from storage, so they run here, after building.
            let rowsPerEvent = try await server.pushActions(zip(built, statesAfter).map { b, state in
                (b.1.event, RoomState(roomID: roomID, version: snap.version, state: state))
            })
            for (n, ((i, ne), rows)) in zip(built, rowsPerEvent).enumerated() {
                built[n] = (i, NewEvent(event: ne.event, json: ne.json, updatesState: ne.updatesState, txn: ne.txn, pushActions: rows))
            }
            let write = RoomWrite(
                roomID: roomID, expectedLastPos: start.lastPos,
                createRoom: createBy.map { (snap.version.id, $0) },
                events: built.map(\.1), extremities: snap.extremities)
            let outcome: RoomWriteOutcome
            do {
                outcome = try await server.persister.persist(write)
            } catch {
                snapshot = nil
                throw error
            }
            switch outcome {
            case .stale:
                snapshot = createBy == nil ? nil : start
                if createBy != nil { throw RoomServerError.conflict }
                server.logger.debug("room \(roomID) changed elsewhere; reloading (attempt \(attempt + 1))")
                continue
            case .committed(let positions):
                snap.lastPos = positions.last ?? snap.lastPos
                snapshot = snap
                var committed: [CommittedEvent] = []
                if recentTxns.count > 2000 { recentTxns.removeAll(keepingCapacity: true) }
                for ((i, ne), pos) in zip(built, positions) {
                    let r = EventResult(event: ne.event, streamPos: pos)
                    results[i] = .success(r)
                    if let t = ne.txn { recentTxns[Self.txnKey(t)] = r }
                    committed.append(CommittedEvent(event: ne.event, streamPos: pos, pushActions: ne.pushActions))
                }
                for (dup, first) in duplicates { results[dup] = results[first] }
                Counter(label: "myelin_events_persisted_total").increment(by: committed.count)
                Recorder(label: "myelin_room_batch_size").record(committed.count)
                server.onCommit(committed)
                return (built.map(\.1), results.map { $0! })
            }
        }
        throw RoomServerError.conflict
    }

    static func txnKey(_ t: TxnRef) -> String { "\(t.userID)|\(t.deviceID)|\(t.txnID)" }

    /// After a stale commit: transactions another process committed meanwhile are answered
    /// with their stored event instead of being sent again.
    private func loadCommittedTxns(_ txns: [TxnRef]) async throws {
        for t in txns where recentTxns[Self.txnKey(t)] == nil {
            guard let id = try await server.store.txnEvent(t), let stored = try await server.store.event(id) else { continue }
            recentTxns[Self.txnKey(t)] = EventResult(event: stored.event, streamPos: stored.streamPos)
        }
    }

    /// The event `req` asks for, with the DAG fields filled in from `snap`, not yet hashed
    /// or signed: what `build` finalises, and the template `make_join` hands out.
    func unsignedEvent(_ req: EventRequest, on snap: Snapshot) -> [String: JSON] {
        let v = snap.version
        let isCreate = req.type == "m.room.create" && req.stateKey == ""
        let keys = AuthRules.authEventKeys(type: req.type, stateKey: req.stateKey, sender: req.sender,
                                           content: req.content, roomVersion: v)
        let authIDs = keys.compactMap { snap.state[$0]?.eventID }
        var json: [String: JSON] = [
            "type": .string(req.type),
            "sender": .string(req.sender),
            "content": req.content,
            "origin_server_ts": .int(req.originServerTS ?? server.now()),
            "depth": .int(min(snap.depth + 1, 9_007_199_254_740_991)),
        ]
        if !(isCreate && v.roomIDFromCreateEvent) { json["room_id"] = .string(roomID) }
        if let sk = req.stateKey { json["state_key"] = .string(sk) }
        if let r = req.redacts {
            if v.redactsInContent {
                var c = req.content.objectValue ?? [:]
                c["redacts"] = .string(r)
                json["content"] = .object(c)
            } else {
                json["redacts"] = .string(r)
            }
        }
        if v.eventIDFormat == .v1 {
            json["prev_events"] = .array(snap.extremities.map { .array([.string($0), snap.extremityHashes[$0] ?? [:]]) })
            json["auth_events"] = .array(authIDs.map { id in
                .array([.string(id), snap.state.values.first { $0.eventID == id }?.json["hashes"] ?? [:]])
            })
        } else {
            json["prev_events"] = .array(snap.extremities.map { .string($0) })
            json["auth_events"] = .array(authIDs.map { .string($0) })
        }
        return json
    }

    /// Fills in the DAG fields, signs, authorises against the working state and applies it.
    private func build(_ req: EventRequest, on snap: inout Snapshot) throws -> NewEvent {
        let state = RoomState(roomID: roomID, version: snap.version, state: snap.state)
        try req.precondition?(state)
        guard req.type.utf8.count <= 255, (req.stateKey?.utf8.count ?? 0) <= 255 else {
            throw RoomServerError.tooLarge("event type and state key are limited to 255 bytes")
        }
        let v = snap.version
        let keys = AuthRules.authEventKeys(type: req.type, stateKey: req.stateKey, sender: req.sender,
                                           content: req.content, roomVersion: v)
        let json = unsignedEvent(req, on: snap)
        let event: Event
        do {
            event = try server.builder(v).finalize(.object(json))
        } catch {
            throw RoomServerError.invalid("event is not valid for room version \(v.id): \(error)")
        }
        let encoded = event.json.canonicalString
        // The spec's limit on a whole PDU, checked on what will actually be stored and sent.
        guard encoded.utf8.count <= 65_536 else { throw RoomServerError.tooLarge("event is larger than 65536 bytes") }
        var authEvents: StateMap = [:]
        for k in keys { if let e = snap.state[k] { authEvents[k] = e } }
        // v12 leaves the create event out of auth_events, but the rules still read it.
        if let create = snap.state[.create] { authEvents[.create] = create }
        do {
            try AuthRules.check(event: event, authEvents: authEvents, roomVersion: v)
        } catch {
            throw RoomServerError.forbidden("\(error)")
        }
        // Accepted: advance the working state.
        if let k = event.stateTuple { snap.state[k] = event }
        snap.extremities = [event.eventID]
        snap.extremityHashes = [event.eventID: event.json["hashes"] ?? [:]]
        snap.depth += 1
        return NewEvent(event: event, json: encoded, updatesState: event.isState,
                        txn: req.txn, pushActions: [])
    }
}
