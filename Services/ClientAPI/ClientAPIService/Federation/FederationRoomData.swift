import FederationClient
import MatrixCore
import ServiceKit
import Storage

/// Room history and state for servers in the room: single events, state at an event, auth
/// chains, backfill and missing events. Events are sent as PDUs; those the asking server may
/// not see under the room's history visibility are sent redacted.
extension ClientAPI {
    static let maxBackfill = 100
    static let maxMissingEvents = 50

    func federationRoomRoutes(_ t: inout FederationRouteTable) {
        t.get("/_matrix/federation/v1/event/:eventId") { [self] req, origin in
            guard let stored = try await events.event(try req.param("eventId")) else { throw MatrixError.notFound("Event not found") }
            try await requireServerInRoom(stored.event.roomID, origin)
            let pdus = try await pdusFor(origin, [stored], roomID: stored.event.roomID)
            return .json(transactionLike(pdus))
        }
        t.get("/_matrix/federation/v1/state/:roomId") { [self] req, origin in
            let (roomID, state) = try await stateBefore(req, origin)
            let chain = try await authChain(of: state.flatMap { $0.event.authEventIDs }, roomID: roomID)
            let version = try await roomVersion(roomID)
            return .json(["pdus": .array(state.map { pdu($0, version) }), "auth_chain": .array(chain.map { pdu($0, version) })])
        }
        t.get("/_matrix/federation/v1/state_ids/:roomId") { [self] req, origin in
            let (roomID, state) = try await stateBefore(req, origin)
            let chain = try await authChain(of: state.flatMap { $0.event.authEventIDs }, roomID: roomID)
            return .json(["pdu_ids": JSON(state.map(\.event.eventID)), "auth_chain_ids": JSON(chain.map(\.event.eventID))])
        }
        t.get("/_matrix/federation/v1/event_auth/:roomId/:eventId") { [self] req, origin in
            let roomID = try req.param("roomId")
            try await requireServerInRoom(roomID, origin)
            guard let stored = try await events.event(try req.param("eventId")), stored.event.roomID == roomID else {
                throw MatrixError.notFound("Event not found")
            }
            let chain = try await authChain(of: stored.event.authEventIDs, roomID: roomID)
            let version = try await roomVersion(roomID)
            return .json(["auth_chain": .array(chain.map { pdu($0, version) })])
        }
        t.get("/_matrix/federation/v1/backfill/:roomId") { [self] req, origin in
            let roomID = try req.param("roomId")
            try await requireServerInRoom(roomID, origin)
            let from = req.query["v"] ?? []
            guard !from.isEmpty else { throw MatrixError.missingParam("v is required") }
            guard let limit = try req.queryInt("limit") else { throw MatrixError.missingParam("limit is required") }
            let found = try await walkBack(from: from, including: true, stopAt: [], roomID: roomID,
                                           limit: max(0, min(limit, Self.maxBackfill)), minDepth: 0)
            return .json(transactionLike(try await pdusFor(origin, found, roomID: roomID)))
        }
        t.post("/_matrix/federation/v1/get_missing_events/:roomId") { [self] req, origin in
            let roomID = try req.param("roomId")
            try await requireServerInRoom(roomID, origin)
            let body = try req.jsonBody()
            let latest = try body.stringArray("latest_events") ?? []
            let earliest = Set(try body.stringArray("earliest_events") ?? [])
            let limit = Int(max(0, min(try body.int("limit") ?? 10, Int64(Self.maxMissingEvents))))
            let minDepth = try body.int("min_depth") ?? 0
            // The latest events themselves are what the asker has; it wants what precedes them.
            let starts = try await events.events(latest).filter { $0.event.roomID == roomID }.flatMap(\.event.prevEventIDs)
            let found = try await walkBack(from: starts, including: true, stopAt: earliest.union(latest), roomID: roomID,
                                           limit: limit, minDepth: minDepth)
            return .json(["events": .array(try await pdusFor(origin, found, roomID: roomID))])
        }
    }

    /// 403 unless `server` has a joined member in the room; 404 for rooms we do not know.
    func requireServerInRoom(_ roomID: String, _ server: ServerName) async throws {
        guard try await events.roomVersion(roomID) != nil else { throw MatrixError.notFound("Unknown room") }
        guard try await events.serverIsJoined(roomID, server: server.rawValue) else {
            throw MatrixError.forbidden("\(server.rawValue) is not in room \(roomID)")
        }
    }

    /// The room state just before `event_id` applies.
    private func stateBefore(_ req: MatrixRequest, _ origin: ServerName) async throws -> (String, [StoredEvent]) {
        let roomID = try req.param("roomId")
        try await requireServerInRoom(roomID, origin)
        guard let eventID = req.queryValue("event_id") else { throw MatrixError.missingParam("event_id is required") }
        guard let stored = try await events.event(eventID), stored.event.roomID == roomID else {
            throw MatrixError.notFound("Event not found")
        }
        let state = try await events.stateAt(roomID, pos: stored.streamPos - 1)
        return (roomID, state.sorted { $0.streamPos < $1.streamPos })
    }

    /// An event as other servers expect it: the signed PDU, redacted when it was redacted
    /// here, without our local `unsigned` data.
    func pdu(_ stored: StoredEvent, _ version: RoomVersion, forceRedacted: Bool = false) -> JSON {
        var json = stored.event.json
        json["unsigned"] = nil
        if stored.redactedBy != nil || forceRedacted { json = json.redacted(for: version) }
        return json
    }

    /// PDUs for `server`, each redacted unless the history visibility at it lets that server see it.
    private func pdusFor(_ server: ServerName, _ list: [StoredEvent], roomID: String) async throws -> [JSON] {
        let version = try await roomVersion(roomID)
        var out: [JSON] = []
        for stored in list {
            let state = try await events.serverVisibilityState(roomID, before: stored.streamPos, server: server.rawValue)
            let visible = EventVisibility.serverMaySee(stored.event, server: server.rawValue, stateBefore: state)
            out.append(pdu(stored, version, forceRedacted: !visible))
        }
        return out
    }

    private func transactionLike(_ pdus: [JSON]) -> JSON {
        ["origin": .string(serverName.rawValue), "origin_server_ts": .int(nowMillis()), "pdus": .array(pdus)]
    }

    /// Every event reachable through `auth_events` from `start`, in stream order. From room
    /// version 12 no event lists the create event (the room ID names it), so it is added:
    /// the asking server needs it to check the rest.
    func authChain(of start: [String], roomID: String) async throws -> [StoredEvent] {
        var seen = Set<String>(), found: [StoredEvent] = []
        var frontier = Array(Set(start))
        if try await roomVersion(roomID).roomIDFromCreateEvent, roomID.hasPrefix("!") {
            frontier.append("$" + roomID.dropFirst())
        }
        while !frontier.isEmpty {
            seen.formUnion(frontier)
            let batch = try await events.events(frontier).filter { $0.event.roomID == roomID }
            found.append(contentsOf: batch)
            frontier = Array(Set(batch.flatMap(\.event.authEventIDs)).subtracting(seen))
        }
        return found.sorted { $0.streamPos < $1.streamPos }
    }

    /// Walks `prev_events` back from `from` (deepest first), stopping at `stopAt`, below
    /// `minDepth` or after `limit` events. Returned oldest first.
    private func walkBack(from: [String], including: Bool, stopAt: Set<String>, roomID: String,
                          limit: Int, minDepth: Int64) async throws -> [StoredEvent] {
        var seen = stopAt, found: [StoredEvent] = []
        var frontier = Array(Set(from).subtracting(stopAt))
        while !frontier.isEmpty, found.count < limit {
            seen.formUnion(frontier)
            let batch = try await events.events(frontier)
                .filter { $0.event.roomID == roomID && $0.event.depth >= minDepth }
                .sorted { ($0.event.depth, $0.streamPos) > ($1.event.depth, $1.streamPos) }
            for e in batch where found.count < limit { found.append(e) }
            frontier = Array(Set(batch.flatMap(\.event.prevEventIDs)).subtracting(seen))
        }
        return found.sorted { ($0.event.depth, $0.streamPos) < ($1.event.depth, $1.streamPos) }
    }
}
