import MatrixCore
import PostgresNIO

/// One room's slice of a batched timeline read: the newest `limit` events after `after`,
/// up to `upTo`.
public struct TimelineSlice: Sendable {
    public let roomID: String
    public let after: Int64
    public let upTo: Int64
    public let limit: Int
    public init(roomID: String, after: Int64, upTo: Int64, limit: Int) {
        self.roomID = roomID
        self.after = after
        self.upTo = upTo
        self.limit = limit
    }
}

/// Reads over many rooms in one statement each, for responses that render a page of rooms
/// (sliding sync's room list): the cost is per page, not per room.
extension EventStore {
    /// Newest events first, per room.
    public func latestEvents(_ slices: [TimelineSlice]) async throws -> [String: [StoredEvent]] {
        let slices = slices.filter { $0.limit > 0 }
        guard !slices.isEmpty else { return [:] }
        let rows = try await db.client.all(LatestTimelineEvents(slices), logger: db.logger)
        var out: [String: [StoredEvent]] = [:]
        for ((room, _), e) in zip(rows, try await resolve(rows.map(\.1))) { if let e { out[room, default: []].append(e) } }
        return out
    }

    /// Current state of many rooms, limited to events of `types` (any state key) and
    /// memberships of `members`.
    public func currentState(rooms: [String], types: [String], members: [String]) async throws -> [String: [StoredEvent]] {
        guard !rooms.isEmpty, !types.isEmpty || !members.isEmpty else { return [:] }
        let refs = try await db.client.all(CurrentStateOfRooms(rooms: rooms, types: types, members: members), logger: db.logger)
        var out: [String: [StoredEvent]] = [:]
        for case let s? in try await resolve(refs) { out[s.event.roomID, default: []].append(s) }
        return out
    }

    public func roomVersions(_ rooms: [String]) async throws -> [String: String] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for try await (r, v) in try await db.query("SELECT room_id, room_version FROM rooms WHERE room_id = ANY(\(rooms))")
            .decode((String, String).self) {
            out[r] = v
        }
        return out
    }

    /// Every event of `type` with `stateKey` in each room, oldest first: the history of one
    /// piece of state (history visibility, or a user's membership).
    public func stateHistory(rooms: [String], type: String, stateKey: String) async throws -> [String: [(Int64, JSON)]] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: [(Int64, JSON)]] = [:]
        let statement = StateEntryHistory(rooms: rooms, type: type, stateKey: stateKey)
        for try await (r, p, j) in try await db.client.execute(statement, logger: db.logger) {
            out[r, default: []].append((p, try JSON.parse(j)))
        }
        return out
    }

    /// State of many rooms, each at its own position: the latest state event per key at
    /// or before that position.
    public func stateAt(_ points: [(roomID: String, pos: Int64)]) async throws -> [String: [StoredEvent]] {
        guard !points.isEmpty else { return [:] }
        var out: [String: [StoredEvent]] = [:]
        for s in try await decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns)
            FROM unnest(\(points.map(\.roomID))::text[], \(points.map(\.pos))::int8[]) AS x(r, p)
            CROSS JOIN LATERAL (
                SELECT DISTINCT ON (type, state_key) * FROM events
                WHERE room_id = x.r AND state_key IS NOT NULL AND stream_pos <= x.p AND placement < 2
                ORDER BY type, state_key, stream_pos DESC) e
            LEFT JOIN redactions r ON r.redacts = e.event_id
            """)) {
            out[s.event.roomID, default: []].append(s)
        }
        return out
    }
}

/// $1 event IDs, $2 rooms, $3 types, $4 state keys, $5 positions (one slot per state event):
/// the JSON of the state each event replaced, and whether it was redacted.
struct PreviousStates: BoundStatement {
    static let sql = """
        SELECT x.id, p.json, p.redacted
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[]) AS x(id, r, t, k, pos)
        CROSS JOIN LATERAL (
            SELECT e.json, EXISTS (SELECT 1 FROM redactions d WHERE d.redacts = e.event_id) AS redacted
            FROM events e WHERE e.room_id = x.r AND e.type = x.t AND e.state_key = x.k AND e.stream_pos < x.pos
              AND e.placement < 2
            ORDER BY e.stream_pos DESC LIMIT 1) AS p
        """
    let bindings: PostgresBindings
    init(_ states: [StoredEvent]) {
        bindings = bind {
            $0.append(states.map(\.event.eventID)); $0.append(states.map(\.event.roomID))
            $0.append(states.map(\.event.type)); $0.append(states.map { $0.event.stateKey ?? "" })
            $0.append(states.map(\.streamPos))
        }
    }
    func decodeRow(_ row: PostgresRow) throws -> (String, String, Bool) { try row.decode((String, String, Bool).self) }
}

extension EventStore {
    /// For each of the state events that replaced another, that one's JSON and whether it was redacted.
    public func previousStates(of states: [StoredEvent]) async throws -> [(String, String, Bool)] {
        guard !states.isEmpty else { return [] }
        return try await db.client.all(PreviousStates(states), logger: db.logger)
    }
}
