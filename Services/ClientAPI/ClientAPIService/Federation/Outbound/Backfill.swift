import FederationClient
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Earlier history of a room shared with other servers, fetched when `/messages` reaches
/// the oldest event held here (the spec's "Backfilling and retrieving missing events"):
/// `GET /backfill` from a server in the room, each PDU checked like a received one
/// (format, signatures, content hash with the redacted copy kept on a mismatch, auth
/// against its own auth events), then stored as history below the timeline
/// (`EventStore.storeHistory`): no wake-ups, no push, no room activity.
extension ClientAPI {
    static let backfillBatch = 50

    /// Fetches one batch of history before the room's oldest timeline events. Returns true
    /// when the timeline grew, false when there is nothing more to fetch or no server had it.
    func backfill(_ roomID: String, wanted: Int) async -> Bool {
        do {
            let frontier = try await events.timelineFrontier(roomID)
            guard !frontier.isEmpty, let name = try await events.roomVersion(roomID),
                  let version = RoomVersion.named(name) else { return false }
            let limit = min(max(wanted + 1, Self.backfillBatch), Self.maxBackfill)
            for server in try await backfillServers(roomID, frontier: frontier).prefix(3) {
                let answer: JSON
                do {
                    answer = try await federation.get(server, FederationPath.target(
                        "/_matrix/federation/v1/backfill", [roomID],
                        query: frontier.prefix(20).map { ("v", $0) } + [("limit", String(limit))]), timeout: .seconds(30))
                } catch {
                    logger.info("backfill of \(roomID) from \(server.rawValue) failed: \(error)")
                    continue
                }
                let stored = try await storeBackfill(answer["pdus"]?.arrayValue ?? [], roomID: roomID, version: version,
                                                     from: server)
                if stored > 0 { return true }
            }
            // Another request (in this process or another) may have stored the same batch
            // meanwhile: the timeline grew all the same.
            return try await events.timelineFrontier(roomID) != frontier
        } catch {
            logger.warning("backfill of \(roomID) failed: \(error)")
            return false
        }
    }

    /// Servers to ask, most likely first: those of the senders of the frontier's children
    /// are unknown here, so the servers of the room's oldest senders, then the rest joined.
    private func backfillServers(_ roomID: String, frontier: [String]) async throws -> [ServerName] {
        let joined = try await events.joinedServers(roomID).filter { $0 != serverName.rawValue }
        var ordered: [String] = []
        if let creator = try await events.currentStateEvent(roomID, type: "m.room.create", stateKey: "")?.event.sender,
           let s = UserID(creator)?.server.rawValue, joined.contains(s) {
            ordered.append(s)
        }
        ordered += joined.filter { !ordered.contains($0) }
        return ordered.compactMap(ServerName.init)
    }

    /// Checks a backfill answer and stores what passes. Returns how many events joined the
    /// timeline.
    private func storeBackfill(_ pdus: [JSON], roomID: String, version: RoomVersion, from origin: ServerName) async throws -> Int {
        let verifier = PDUVerifier(keys: federation.keys)
        var batch: [Event] = []
        for p in pdus.prefix(Self.maxBackfill) {
            do {
                let v = try await verifier.verify(p, version: version)
                if v.event.roomID == roomID { batch.append(v.event) }
            } catch {
                logger.info("backfill of \(roomID): \(origin.rawValue) sent a PDU that fails its checks: \(error)")
            }
        }
        let create = try await events.currentStateEvent(roomID, type: "m.room.create", stateKey: "")?.event
        // A second create event is never history of this room.
        batch.removeAll { $0.stateTuple == .create && $0.eventID != create?.eventID }
        let rejected = try await FederationInboxStore(db: db).rejected(batch.map(\.eventID))
        batch.removeAll { rejected[$0.eventID] != nil }
        guard !batch.isEmpty else { return 0 }

        var checked = try await authCheck(batch, create: create, version: version)
        // Auth events neither sent nor stored: ask for them once, then check again.
        if let needy = checked.rejected.first(where: { $0.reason.contains("are unknown") })?.event {
            try await fetchAuthEvents(of: needy, room: roomID, version: version, from: origin)
            checked = try await authCheck(batch, create: create, version: version)
        }
        let inbox = FederationInboxStore(db: db)
        for (e, why) in checked.rejected where !why.contains("are unknown") {
            logger.info("backfill of \(roomID): \(e.eventID) from \(origin.rawValue) refused: \(why)")
            try await inbox.reject(e, reason: "backfill: \(why)", softFailed: false)
        }
        // Events stored already were trusted by the check; they take their place in the timeline too.
        let passed = Set(checked.accepted.map(\.eventID)).union(checked.known)
        let history = batch.filter { passed.contains($0.eventID) }
            .sorted { ($0.depth, $0.eventID) > ($1.depth, $1.eventID) }
        return try await events.storeHistory(roomID, events: history)
    }

    private struct BackfillCheck {
        let accepted: [Event]
        let rejected: [(event: Event, reason: String)]
        let known: Set<String>
    }

    private func authCheck(_ batch: [Event], create: Event?, version: RoomVersion) async throws -> BackfillCheck {
        let ids = Set(batch.map(\.eventID))
        let authIDs = batch.flatMap(\.authEventIDs).filter { !ids.contains($0) } + (create.map { [$0.eventID] } ?? [])
        var known = try await events.authChainEvents(of: authIDs)
        for s in try await events.events(Array(ids)) { known[s.event.eventID] = s.event }
        let result = AuthChainCheck.check(batch, known: known, roomVersion: version)
        return BackfillCheck(accepted: result.accepted, rejected: result.rejected, known: ids.intersection(known.keys))
    }
}
