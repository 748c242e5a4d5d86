import Metrics
import MatrixCore
import Storage

/// The send pipeline: a batch is built on the cached state, handed to the persister, and
/// while it commits the next batch is built on the state it leaves and handed in behind it
/// (at most `maxInFlight` at once). A batch commits only if the one before it did; batches
/// finish in order, so callers hear back, and commits are announced, in stream order.
extension RoomActor {
    static let maxInFlight = 2

    /// A batch built from requests: their results so far, its events and the state after it.
    struct PreparedBatch {
        /// Per request: set for refusals and retried transactions; the rest once committed.
        var results: [Result<EventResult, any Error>?]
        /// The events to store, with the index of the request each answers.
        var built: [(Int, NewEvent)]
        /// Requests repeating a transaction of an earlier request in the batch: (repeat, first).
        var duplicates: [(Int, Int)]
        /// The room after the batch (its `lastPos` is still the one it was built on).
        var after: Snapshot
    }

    struct InFlight {
        let id: Int
        let waiters: [Waiter]
        let batch: PreparedBatch
        /// False when every request was refused or answered already: nothing goes to the persister.
        let writes: Bool
        var ticket: PersistTicket?
        let txnKeys: Set<String>
        var outcome: Result<RoomWriteOutcome, any Error>?
    }

    func wake() {
        if let p = parked {
            parked = nil
            p.resume()
        }
    }

    func drain() async {
        while true {
            while let head = inFlight.first, let outcome = head.outcome {
                inFlight.removeFirst()
                await finish(head, outcome)
            }
            if inFlight.isEmpty {
                flushing = false
                requeueAt = 0
            }
            if case .task(let work)? = pending.first, inFlight.isEmpty {
                pending.removeFirst()
                await work()
                continue
            }
            if !flushing, inFlight.count < Self.maxInFlight {
                let waiters = takeBatch()
                if !waiters.isEmpty {
                    await start(waiters)
                    continue
                }
            }
            if pending.isEmpty && inFlight.isEmpty { break }
            await withCheckedContinuation { parked = $0 }
        }
        running = false
    }

    /// Every local send up to the next task, stopping short of a transaction a batch in
    /// flight is committing (its repeat waits for that outcome).
    private func takeBatch() -> [Waiter] {
        var batch: [Waiter] = []
        while case .send(let w)? = pending.first {
            if let t = w.request.txn, inFlight.contains(where: { $0.txnKeys.contains(Self.txnKey(t)) }) { break }
            batch.append(w)
            pending.removeFirst()
        }
        return batch
    }

    /// Builds a batch on the state the batches in flight leave and hands it to the persister.
    private func start(_ waiters: [Waiter]) async {
        let id = nextBatchID
        nextBatchID += 1
        let chainedTo = inFlight.last { $0.writes }?.ticket
        let prepared: PreparedBatch
        let base: Snapshot
        do {
            let retried = waiters.filter { $0.attempts > 0 }.compactMap(\.request.txn)
            if !retried.isEmpty { try await loadCommittedTxns(retried) }
            // Behind a write in flight, on what it leaves; otherwise on the committed state.
            if chainedTo != nil, let tip = inFlight.last { base = tip.batch.after } else { base = try await loadedSnapshot() }
            prepared = try await prepare(waiters.map(\.request), on: base, atomic: false)
        } catch {
            for w in waiters { w.continuation.resume(throwing: error) }
            return
        }
        let keys = Set(waiters.compactMap { $0.request.txn.map(Self.txnKey) })
        let writes = !prepared.built.isEmpty
        inFlight.append(InFlight(id: id, waiters: waiters, batch: prepared, writes: writes, ticket: nil, txnKeys: keys,
                                 outcome: writes ? nil : .success(.committed([]))))
        guard writes else { return }
        let write = RoomWrite(roomID: roomID, expectedLastPos: base.lastPos, createRoom: nil,
                              events: prepared.built.map(\.1), extremities: prepared.after.extremities)
        let ticket = await server.persister.enqueue(write, after: chainedTo) { [self] outcome in
            Task { await self.completed(id, outcome) }
        }
        if let i = inFlight.firstIndex(where: { $0.id == id }) { inFlight[i].ticket = ticket }
    }

    private func completed(_ id: Int, _ outcome: Result<RoomWriteOutcome, any Error>) {
        if let i = inFlight.firstIndex(where: { $0.id == id }) { inFlight[i].outcome = outcome }
        wake()
    }

    /// Answers a batch whose commit ended, or sends its requests round again.
    private func finish(_ f: InFlight, _ outcome: Result<RoomWriteOutcome, any Error>) async {
        switch outcome {
        case .failure(let error):
            snapshot = nil
            flushing = true
            for w in f.waiters { w.continuation.resume(throwing: error) }
        case .success(.stale):
            snapshot = nil
            server.logger.debug("room \(roomID) changed elsewhere; reloading")
            retry(f.waiters)
        case .success(.committed(let positions)):
            if !f.writes {
                // Everything was refused against the cache, and no commit checked it: make sure
                // another process has not changed the room (a join, new power levels) before
                // refusing for good.
                let refused = f.batch.results.contains { if case .failure? = $0 { true } else { false } }
                if refused {
                    let current = try? await server.store.lastPos(roomID)
                    if current == nil || current != snapshot?.lastPos {
                        snapshot = nil
                        server.logger.debug("room \(roomID) changed elsewhere; rechecking refused events")
                        retry(f.waiters)
                        return
                    }
                }
            }
            let results = record(f.batch, positions: positions)
            for (w, r) in zip(f.waiters, results) { w.continuation.resume(with: r!) }
        }
    }

    /// Puts requests back at the front of the queue, behind others already put back; a
    /// request that went round too often fails.
    private func retry(_ waiters: [Waiter]) {
        flushing = true
        for var w in waiters {
            w.attempts += 1
            if w.attempts >= 4 {
                w.continuation.resume(throwing: RoomServerError.conflict)
                continue
            }
            pending.insert(.send(w), at: requeueAt)
            requeueAt += 1
        }
    }

    /// Builds every request on `snap`, in order, and works out the push actions of what
    /// passed. `atomic`: the first refusal fails the whole batch.
    func prepare(_ requests: [EventRequest], on base: Snapshot, atomic: Bool) async throws -> PreparedBatch {
        var snap = base
        var results: [Result<EventResult, any Error>?] = Array(repeating: nil, count: requests.count)
        var built: [(Int, NewEvent)] = []
        var statesAfter: [(StateMap, RoomFacts)] = []
        var seenInBatch: [String: Int] = [:]
        var duplicates: [(Int, Int)] = []
        for (i, req) in requests.enumerated() {
            if let key = req.txn.map(Self.txnKey) {
                if let prev = recentTxns[key] { results[i] = .success(prev); continue }
                if let first = seenInBatch[key] { duplicates.append((i, first)); continue }
                seenInBatch[key] = i
            }
            do {
                let ne = try build(req, on: &snap)
                built.append((i, ne))
                statesAfter.append((snap.state, snap.facts()))
            } catch {
                if atomic { throw error }
                results[i] = .failure(error)
            }
        }
        // A refused request may retry a client transaction committed earlier (the room
        // changed since, or it went through another process): it gets the stored event,
        // as any retry does. Sends are not checked against storage before they get here.
        let refusedTxns = requests.indices.compactMap { i -> TxnRef? in
            guard case .failure? = results[i] else { return nil }
            return requests[i].txn
        }
        if !refusedTxns.isEmpty {
            try await loadCommittedTxns(refusedTxns)
            for i in requests.indices {
                if case .failure? = results[i], let t = requests[i].txn, let stored = recentTxns[Self.txnKey(t)] {
                    results[i] = .success(stored)
                }
            }
        }
        if !built.isEmpty {
            // Push rules read per-user settings from storage, so they run here, after building.
            let outcomes = try await server.pushActions(zip(built, statesAfter).map { b, state in
                (b.1.event, RoomState(roomID: roomID, version: snap.version, state: state.0, facts: state.1))
            })
            for (n, ((i, ne), push)) in zip(built, outcomes).enumerated() {
                built[n] = (i, NewEvent(event: ne.event, json: ne.json, updatesState: ne.updatesState, txn: ne.txn,
                                        pushActions: push.rows, pushRecipients: push.recipients))
            }
        }
        return PreparedBatch(results: results, built: built, duplicates: duplicates, after: snap)
    }

    /// A batch committed at `positions`: caches the state after it, remembers its
    /// transactions, announces it, and returns a result per request.
    func record(_ batch: PreparedBatch, positions: [Int64]) -> [Result<EventResult, any Error>?] {
        var results = batch.results
        if !batch.built.isEmpty {
            var after = batch.after
            after.lastPos = positions.last ?? after.lastPos
            snapshot = after
        }
        var committed: [CommittedEvent] = []
        if recentTxns.count > 2000 { recentTxns.removeAll(keepingCapacity: true) }
        for ((i, ne), pos) in zip(batch.built, positions) {
            let r = EventResult(event: ne.event, streamPos: pos)
            results[i] = .success(r)
            if let t = ne.txn { recentTxns[Self.txnKey(t)] = r }
            committed.append(CommittedEvent(event: ne.event, streamPos: pos, pushActions: ne.pushActions))
        }
        for (dup, first) in batch.duplicates { results[dup] = results[first] }
        if !committed.isEmpty {
            Counter(label: "myelin_events_persisted_total").increment(by: committed.count)
            Recorder(label: "myelin_room_batch_size").record(committed.count)
            server.onCommit(committed)
        }
        return results
    }
}
