import Logging
import Metrics
import MatrixCore
import Storage

/// Serialises writes to one room in this process and batches them: every request that
/// arrives while a commit is in flight is built on top of the state that commit leaves and
/// handed in right behind it (see `RoomActor+Pipeline.swift`). The cache (current state,
/// extremities, depth, last position) is checked against Postgres inside the commit; if
/// another process wrote the room meanwhile, it reloads and retries.
actor RoomActor {
    let roomID: String
    let server: RoomServerCore
    /// The room as of its last commit this actor saw (never a batch still in flight).
    var snapshot: Snapshot?
    /// Local sends (batched together) and other work on the room (events from other
    /// servers, joins over federation), run one after another in arrival order.
    var pending: [Pending] = []
    var running = false
    /// Batches handed to the persister and not finished yet, oldest first.
    var inFlight: [InFlight] = []
    var nextBatchID = 0
    /// The drain, parked until a request arrives or a commit ends.
    var parked: CheckedContinuation<Void, Never>?
    /// A batch did not commit: nothing new is built until every batch in flight is back,
    /// and their requests go back to the front of `pending` in order, from this index.
    var flushing = false
    var requeueAt = 0

    enum Pending {
        case send(Waiter)
        case task(@Sendable () async -> Void)
    }

    struct Waiter {
        let request: EventRequest
        let continuation: CheckedContinuation<EventResult, any Error>
        /// Commits this request already took part in that did not go through.
        var attempts = 0
    }

    /// Recent client transactions, so a retried send racing the first one returns the same event.
    var recentTxns: [String: EventResult] = [:]

    struct Snapshot {
        var version: RoomVersion
        var lastPos: Int64?
        var state: StateMap { didSet { cachedFacts = nil } }
        var extremities: [String]
        /// Content hashes of the extremities, for v1/v2 `prev_events` pairs.
        var extremityHashes: [String: JSON]
        var depth: Int64
        /// `facts()` of the current state, until it changes.
        private var cachedFacts: RoomFacts?

        init(version: RoomVersion, lastPos: Int64?, state: StateMap, extremities: [String],
             extremityHashes: [String: JSON], depth: Int64) {
            (self.version, self.lastPos, self.state) = (version, lastPos, state)
            (self.extremities, self.extremityHashes, self.depth) = (extremities, extremityHashes, depth)
        }

        mutating func facts() -> RoomFacts {
            if let f = cachedFacts { return f }
            let f = RoomFacts(state: state, version: version)
            cachedFacts = f
            return f
        }
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
            pending.append(.send(Waiter(request: r, continuation: c)))
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
        if running {
            wake()
        } else {
            running = true
            Task { await self.drain() }
        }
    }

    /// Submits several requests that must commit together or not at all (room creation).
    func submitAtomically(_ rs: [EventRequest], creator: String) async throws -> [EventResult] {
        while running { await Task.yield() }
        running = true
        defer { running = false; if !pending.isEmpty { startDraining() } }
        let start = try await loadedSnapshot()
        let batch = try await prepare(rs, on: start, atomic: true)
        let write = RoomWrite(roomID: roomID, expectedLastPos: start.lastPos, createRoom: (start.version.id, creator),
                              events: batch.built.map(\.1), extremities: batch.after.extremities)
        let outcome: RoomWriteOutcome
        do {
            outcome = try await server.persister.persist(write)
        } catch {
            snapshot = nil
            throw error
        }
        guard case .committed(let positions) = outcome else {
            snapshot = start
            throw RoomServerError.conflict
        }
        return try record(batch, positions: positions).map { try $0!.get() }
    }

    func cachedState() async throws -> RoomState {
        let s = try await freshSnapshot()
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

    static func txnKey(_ t: TxnRef) -> String { "\(t.userID)|\(t.deviceID)|\(t.txnID)" }

    /// Transactions committed earlier (by another process, or before the room changed) are
    /// answered with their stored event instead of being sent again.
    func loadCommittedTxns(_ txns: [TxnRef]) async throws {
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
    func build(_ req: EventRequest, on snap: inout Snapshot) throws -> NewEvent {
        let facts = snap.facts()
        let state = RoomState(roomID: roomID, version: snap.version, state: snap.state, facts: facts)
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
            try AuthRules.check(event: event, authEvents: authEvents, roomVersion: v,
                                powerLevels: facts.powerLevels(for: authEvents))
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
