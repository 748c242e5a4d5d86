import FederationClient
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// The PDUs of a transaction, each through the checks of the spec: format, signatures and
/// hashes here, then the room actor's auth checks. Missing prev events are asked for with
/// `/get_missing_events` (one round); where a gap remains, the state before the event comes
/// from `/state_ids` (GapState.swift); missing auth events come from `/event_auth`.
extension ClientAPI {
    static let missingEventsLimit = 10

    /// One result per PDU, keyed by event ID: `{}` when accepted (or already known), an
    /// `error` otherwise. PDUs of rooms we are not in are left out, as their IDs cannot be
    /// known without the room version.
    func receivePDUs(_ pdus: [JSON], from origin: ServerName) async throws -> [String: JSON] {
        var results: [String: JSON] = [:]
        var byRoom: [String: [JSON]] = [:]
        var order: [String] = []
        for p in pdus {
            guard let room = p["room_id"]?.stringValue else { continue }
            if byRoom[room] == nil { order.append(room) }
            byRoom[room, default: []].append(p)
        }
        for room in order {
            guard let name = try await events.roomVersion(room), let version = RoomVersion.named(name),
                  try await events.serverIsJoined(room, server: serverName.rawValue) else {
                logger.info("ignoring \(byRoom[room]?.count ?? 0) PDUs from \(origin.rawValue) for room \(room), which this server is not in")
                continue
            }
            var verified: [Event] = []
            for p in byRoom[room] ?? [] {
                do {
                    verified.append(try await PDUVerifier(keys: federation.keys).verify(p, version: version).event)
                } catch {
                    if let id = p.eventID(for: version)?.rawValue { results[id] = ["error": .string(error.description)] }
                }
            }
            for e in verified.sorted(by: { $0.depth < $1.depth }) {
                do {
                    results[e.eventID] = Self.pduResult(try await receive(e, room: room, version: version, from: origin, fetchMissing: true))
                } catch {
                    logger.warning("processing \(e.eventID) from \(origin.rawValue) failed: \(error)")
                    results[e.eventID] = ["error": .string("processing failed")]
                }
            }
        }
        return results
    }

    static func pduResult(_ outcome: RemoteEventOutcome) -> JSON {
        switch outcome {
        case .accepted, .duplicate, .softFailed: return [:]
        case .rejected(let why): return ["error": .string(why)]
        case .missingAuthEvents(let ids): return ["error": .string("unknown auth events: \(ids.joined(separator: ", "))")]
        }
    }

    /// One verified PDU into its room: first the prev events we lack (once), then the
    /// event, fetching its auth events if they are unknown.
    func receive(_ event: Event, room: String, version: RoomVersion, from origin: ServerName,
                 fetchMissing: Bool) async throws -> RemoteEventOutcome {
        if fetchMissing {
            let prevs = event.prevEventIDs
            let known = try await FederationInboxStore(db: db).known(prevs + [event.eventID])
            if !known.contains(event.eventID), prevs.contains(where: { !known.contains($0) }) {
                for missing in await missingEvents(before: event, room: room, version: version, from: origin) {
                    _ = try? await receive(missing, room: room, version: version, from: origin, fetchMissing: false)
                }
            }
        }
        // A gap the missing events did not close: the state before the event from the origin.
        var gap: StateMap?
        let inbox = FederationInboxStore(db: db)
        let prevs = event.prevEventIDs
        if !prevs.isEmpty, try await inbox.known([event.eventID]).isEmpty {
            let known = try await inbox.known(prevs)
            if prevs.contains(where: { !known.contains($0) }) {
                gap = await gapState(before: event, room: room, version: version, from: origin)
            }
        }
        var outcome = try await roomServer.receive(roomID: room, event: event, gapState: gap)
        if case .missingAuthEvents = outcome {
            try await fetchAuthEvents(of: event, room: room, version: version, from: origin)
            outcome = try await roomServer.receive(roomID: room, event: event, gapState: gap)
        }
        return outcome
    }

    /// The events between our forward extremities and `event`, oldest first, as `origin`
    /// sends them (verified; bad ones dropped).
    private func missingEvents(before event: Event, room: String, version: RoomVersion, from origin: ServerName) async -> [Event] {
        do {
            let earliest = try await events.forwardExtremities(room)
            let answer = try await federation.post(origin, FederationPath.target("/_matrix/federation/v1/get_missing_events", [room]),
                                                   body: ["earliest_events": JSON(earliest), "latest_events": [.string(event.eventID)],
                                                          "limit": .int(Int64(Self.missingEventsLimit)), "min_depth": 0],
                                                   timeout: .seconds(20))
            var out: [Event] = []
            for p in (answer["events"]?.arrayValue ?? []).prefix(Self.missingEventsLimit) {
                if let v = try? await PDUVerifier(keys: federation.keys).verify(p, version: version), v.event.roomID == room {
                    out.append(v.event)
                }
            }
            return out.sorted { $0.depth < $1.depth }
        } catch {
            logger.info("get_missing_events for \(event.eventID) from \(origin.rawValue) failed: \(error)")
            return []
        }
    }

    /// Asks `origin` for the auth chain of `event` and stores the part that checks out.
    func fetchAuthEvents(of event: Event, room: String, version: RoomVersion, from origin: ServerName) async throws {
        let answer: JSON
        do {
            answer = try await federation.get(origin, FederationPath.target("/_matrix/federation/v1/event_auth", [room, event.eventID]),
                                              timeout: .seconds(20))
        } catch {
            logger.info("event_auth for \(event.eventID) from \(origin.rawValue) failed: \(error)")
            return
        }
        var chain: [Event] = []
        for p in answer["auth_chain"]?.arrayValue ?? [] {
            if let v = try? await PDUVerifier(keys: federation.keys).verify(p, version: version), v.event.roomID == room {
                chain.append(v.event)
            }
        }
        // What the chain leans on that we have, the create event included (v12 lists it nowhere).
        let create = try await events.currentStateEvent(room, type: "m.room.create", stateKey: "")?.event.eventID
        let known = try await events.authChainEvents(of: chain.flatMap(\.authEventIDs) + (create.map { [$0] } ?? []))
        let checked = AuthChainCheck.check(chain, known: known, roomVersion: version)
        for (e, why) in checked.rejected { logger.info("auth event \(e.eventID) from \(origin.rawValue) refused: \(why)") }
        try await roomCall { try await roomServer.storeOutliers(roomID: room, events: checked.accepted) }
    }
}
