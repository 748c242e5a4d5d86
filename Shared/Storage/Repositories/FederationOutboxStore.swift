import MatrixCore
import PostgresNIO

/// One destination's next PDUs, read from the room history.
public struct OutboundBatch: Sendable {
    /// The events to send, oldest first, as stored (redacted ones already redacted).
    public let events: [Event]
    /// Everything up to here has been looked at: the destination's position once `events`
    /// are delivered.
    public let scannedUpTo: Int64
}

/// What the federation sender reads and records: the servers to send to, each one's
/// position, and the events after it that concern it.
public struct FederationOutboxStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    static let serverOfUser = "substring(user_id from position(':' in user_id) + 1)"

    /// Servers other than `us` that have a joined member in some room, or a position.
    public func destinations(excluding us: String) async throws -> [String] {
        var out = Set<String>()
        for try await s in try await db.query("""
            SELECT DISTINCT \(unescaped: Self.serverOfUser) FROM memberships WHERE membership = 'join'
            UNION SELECT destination FROM federation_destinations
            """).decode(String.self) where s != us {
            out.insert(s)
        }
        return out.sorted()
    }

    /// Servers other than `us` with a joined member in the room now.
    public func joinedServers(_ roomID: String, excluding us: String) async throws -> [String] {
        var out: [String] = []
        for try await s in try await db.client.execute(JoinedServers(roomID: roomID), logger: db.logger) where s != us {
            out.append(s)
        }
        return out.sorted()
    }

    /// The destination's position. A destination seen for the first time starts just before
    /// the earliest current join of its users (nothing older concerns it), or at the head.
    /// The other servers with a member joined to a room `userID` is joined to.
    public func serversSharingRoom(with userID: String, excluding us: String) async throws -> [String] {
        var out: [String] = []
        for try await s in try await db.query("""
            SELECT DISTINCT \(unescaped: Self.serverOfUser) FROM memberships
            WHERE membership = 'join' AND room_id IN (SELECT room_id FROM memberships WHERE user_id = \(userID) AND membership = 'join')
            """).decode(String.self) where s != us {
            out.append(s)
        }
        return out.sorted()
    }

    public func position(of destination: String) async throws -> Int64 {
        for try await p in try await db.query("""
            SELECT last_pos FROM federation_destinations WHERE destination = \(destination)
            """).decode(Int64.self) {
            return p
        }
        var start = try await db.currentStreamHead()
        for try await p in try await db.query("""
            SELECT MIN(stream_pos) - 1 FROM memberships
            WHERE \(unescaped: Self.serverOfUser) = \(destination) AND membership = 'join'
            """).decode(Int64?.self) {
            if let p { start = min(start, p) }
        }
        try await setPosition(of: destination, to: start, onlyIfNew: true)
        return try await position(of: destination)
    }

    public func setPosition(of destination: String, to pos: Int64, onlyIfNew: Bool = false) async throws {
        if onlyIfNew {
            try await db.query("""
                INSERT INTO federation_destinations (destination, last_pos, updated_ts) VALUES (\(destination), \(pos), \(nowMillis()))
                ON CONFLICT (destination) DO NOTHING
                """)
        } else {
            try await db.query("""
                INSERT INTO federation_destinations (destination, last_pos, updated_ts) VALUES (\(destination), \(pos), \(nowMillis()))
                ON CONFLICT (destination) DO UPDATE SET last_pos = GREATEST(federation_destinations.last_pos, EXCLUDED.last_pos),
                    updated_ts = EXCLUDED.updated_ts
                """)
        }
    }

    /// Up to `limit` events after `after` that `destination` should get: our users' events
    /// in rooms where one of its users was joined just before the event, and membership
    /// changes of its users (a kick reaches the kicked); invites go through `/invite`. Also
    /// the joins and leaves of other servers' users that we took in through `send_join` /
    /// `send_leave` (they carry our signature): the spec has the resident server pass those
    /// on, to every server but the member's own.
    public func pendingEvents(for destination: String, us: String, after: Int64, limit: Int) async throws -> OutboundBatch {
        let head = try await db.currentStreamHead()
        guard head > after else { return OutboundBatch(events: [], scannedUpTo: after) }
        var candidates: [(pos: Int64, event: Event, redacted: Bool, version: String)] = []
        for try await (pos, id, json, redacted, version) in try await db.query("""
            SELECT e.stream_pos, e.event_id, e.json, r.redacts IS NOT NULL, rm.room_version FROM events e
            JOIN rooms rm ON rm.room_id = e.room_id
            LEFT JOIN redactions r ON r.redacts = e.event_id
            WHERE e.room_id IN (SELECT DISTINCT room_id FROM memberships WHERE \(unescaped: Self.serverOfUser) = \(destination))
              AND e.stream_pos > \(after) AND e.stream_pos <= \(head) AND e.placement = 0
              AND (substring(e.sender from position(':' in e.sender) + 1) = \(us)
                   OR (e.type = 'm.room.member' AND substring(e.sender from position(':' in e.sender) + 1) <> \(destination)
                       AND ((e.json::jsonb) -> 'signatures') ? \(us)
                       AND (e.json::jsonb) -> 'content' ->> 'membership' IN ('join', 'leave')))
            ORDER BY e.stream_pos LIMIT \(limit)
            """).decode((Int64, String, String, Bool, String).self) {
            candidates.append((pos, Event(eventID: id, json: try JSON.parse(json)), redacted, version))
        }
        let scanned = candidates.count == limit ? candidates.last!.pos : head
        guard !candidates.isEmpty else { return OutboundBatch(events: [], scannedUpTo: scanned) }

        // Membership history of the destination's users in those rooms.
        var history: [String: [(pos: Int64, user: String, membership: String)]] = [:]
        let rooms = Array(Set(candidates.map(\.event.roomID)))
        for try await (room, user, pos, membership) in try await db.query("""
            SELECT room_id, state_key, stream_pos, COALESCE((json::jsonb) -> 'content' ->> 'membership', '') FROM events
            WHERE room_id = ANY(\(rooms)) AND type = 'm.room.member' AND placement < 2 AND state_key IS NOT NULL
              AND substring(state_key from position(':' in state_key) + 1) = \(destination) AND stream_pos <= \(scanned)
            ORDER BY stream_pos
            """).decode((String, String, Int64, String).self) {
            history[room, default: []].append((pos, user, membership))
        }
        var out: [Event] = []
        for c in candidates {
            let e = c.event
            var joined: [String: String] = [:]
            for h in history[e.roomID] ?? [] where h.pos < c.pos { joined[h.user] = h.membership }
            let wasJoined = joined.values.contains("join")
            let aboutThem = e.type == "m.room.member" && e.membership != "invite"
                && e.stateKey.flatMap { UserID($0)?.server.rawValue } == destination
            guard wasJoined || aboutThem else { continue }
            var json = e.json
            json["unsigned"] = nil
            if c.redacted, let v = RoomVersion.named(c.version) { json = json.redacted(for: v) }
            out.append(Event(eventID: e.eventID, json: json))
        }
        return OutboundBatch(events: out, scannedUpTo: scanned)
    }
}
