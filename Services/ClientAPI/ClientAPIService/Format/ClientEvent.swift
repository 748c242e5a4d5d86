import MatrixCore
import ServiceKit
import Storage

/// Converts stored PDUs into the client-server event format.
enum ClientEvent {
    /// `viewer`/`viewerDevice` decide whether `unsigned.transaction_id` is shown (only to the
    /// device that sent it). Redacted events are pruned per their room version.
    static func format(_ s: StoredEvent, version: RoomVersion, viewerDevice: (String, String)? = nil,
                       redaction: JSON? = nil, includeRoomID: Bool = true, now: Int64 = nowMillis()) -> JSON {
        var src = s.event.json
        if s.redactedBy != nil { src = src.redacted(for: version) }
        var o: [String: JSON] = [
            "event_id": .string(s.event.eventID),
            "type": src["type"] ?? "",
            "sender": src["sender"] ?? "",
            "content": src["content"] ?? [:],
            "origin_server_ts": src["origin_server_ts"] ?? 0,
        ]
        if includeRoomID { o["room_id"] = .string(s.event.roomID) }
        if let sk = src["state_key"] { o["state_key"] = sk }
        if let r = s.event.redacts, s.event.type == "m.room.redaction" { o["redacts"] = .string(r) }
        var unsigned: [String: JSON] = ["age": .int(max(0, now - s.event.originServerTS))]
        if let (u, d) = viewerDevice, let tid = s.txnID, s.txnDevice == d, s.event.sender == u {
            unsigned["transaction_id"] = .string(tid)
        }
        if let red = s.redactedBy {
            unsigned["redacted_because"] = redaction ?? ["event_id": .string(red), "type": "m.room.redaction"]
        }
        o["unsigned"] = .object(unsigned)
        return .object(o)
    }

    /// Stripped state for invites and knocks.
    static func stripped(_ e: Event) -> JSON {
        ["type": .string(e.type), "state_key": .string(e.stateKey ?? ""), "sender": .string(e.sender), "content": e.content]
    }
}

extension ClientAPI {
    func roomVersion(_ roomID: String) async throws -> RoomVersion {
        guard let rv = try await roomVersions([roomID])[roomID] else { throw MatrixError.notFound("Unknown room") }
        return rv
    }

    /// Versions of many rooms; they never change, so each is read from the database once.
    func roomVersions(_ rooms: [String]) async throws -> [String: RoomVersion] {
        var out = await roomVersionCache.lookup(rooms)
        let missing = rooms.filter { out[$0] == nil }
        if !missing.isEmpty {
            let read = try await events.roomVersions(missing).compactMapValues(RoomVersion.named)
            await roomVersionCache.store(read)
            out.merge(read, uniquingKeysWith: { a, _ in a })
        }
        return out
    }

    /// Formats events of one room for a viewer, adding `prev_content` for state changes and
    /// the redaction event to redacted ones.
    func format(_ list: [StoredEvent], roomID: String, viewer: TokenOwner, includeRoomID: Bool = true) async throws -> [JSON] {
        guard !list.isEmpty else { return [] }
        return try await formatMany([list], viewer: viewer, includeRoomID: includeRoomID)[0]
    }

    /// Formats several lists of events (of any rooms) with one query each for redactions
    /// and previous contents, whatever the number of lists.
    func formatMany(_ lists: [[StoredEvent]], viewer: TokenOwner, includeRoomID: Bool = true) async throws -> [[JSON]] {
        let all = lists.flatMap { $0 }
        guard !all.isEmpty else { return lists.map { _ in [] } }
        // The three reads are independent: one round trip's wait instead of three.
        let redactionIDs = all.compactMap(\.redactedBy)
        let events = self.events
        async let redactionsRead = redactionIDs.isEmpty ? [] : events.events(redactionIDs)
        async let previousRead = events.previousStates(of: all.filter { $0.event.stateKey != nil })
        let versions = try await roomVersions(Array(Set(all.map(\.event.roomID))))
        func version(_ roomID: String) throws -> RoomVersion {
            guard let v = versions[roomID] else { throw MatrixError.notFound("Unknown room") }
            return v
        }
        var redactions: [String: JSON] = [:]
        for r in try await redactionsRead {
            redactions[r.event.eventID] = ClientEvent.format(r, version: try version(r.event.roomID), includeRoomID: includeRoomID)
        }
        let now = nowMillis()
        let prevContent = try Self.previousContents(try await previousRead, versions: versions)
        return try lists.map { list in
            try list.map { s in
                var j = ClientEvent.format(s, version: try version(s.event.roomID), viewerDevice: (viewer.userID, viewer.deviceID),
                                           redaction: s.redactedBy.flatMap { redactions[$0] }, includeRoomID: includeRoomID, now: now)
                if let pc = prevContent[s.event.eventID] {
                    j["unsigned"]?["prev_content"] = pc
                }
                return j
            }
        }
    }

    /// For each state event, the content of the state it replaced (`rows` as
    /// `EventStore.previousStates` reads them: one query for the whole list).
    private static func previousContents(_ rows: [(String, String, Bool)], versions: [String: RoomVersion]) throws -> [String: JSON] {
        var out: [String: JSON] = [:]
        for (id, j, redacted) in rows {
            var prev = try JSON.parse(j)
            if redacted, let v = prev["room_id"]?.stringValue.flatMap({ versions[$0] }) { prev = prev.redacted(for: v) }
            out[id] = prev["content"] ?? [:]
        }
        return out
    }
}
