import MatrixCore
import PostgresNIO

/// What the server-server API asks of rooms: which servers are in them, and the state a
/// server's view of an event depends on.
extension EventStore {

    /// Servers with at least one joined member, ours included.
    public func joinedServers(_ roomID: String) async throws -> [String] {
        var out: [String] = []
        for try await s in try await db.client.execute(JoinedServers(roomID: roomID), logger: db.logger) { out.append(s) }
        return out.sorted()
    }

    /// Whether `server` has a joined member in the room now.
    public func serverIsJoined(_ roomID: String, server: String) async throws -> Bool {
        !(try await db.rows("""
            SELECT 1 FROM memberships WHERE room_id = \(roomID) AND membership = 'join'
              AND substring(user_id from position(':' in user_id) + 1) = \(server) LIMIT 1
            """)).isEmpty
    }

    /// The room's history visibility and the member events of `server`'s users, as they
    /// stood just before position `pos`: all a server's view of the event at `pos` needs.
    public func serverVisibilityState(_ roomID: String, before pos: Int64, server: String) async throws -> StateMap {
        let rows = try await db.query("""
            SELECT DISTINCT ON (type, state_key) event_id, json FROM events
            WHERE room_id = \(roomID) AND stream_pos < \(pos) AND state_key IS NOT NULL AND placement < 2
              AND ((type = 'm.room.history_visibility' AND state_key = '')
                OR (type = 'm.room.member' AND substring(state_key from position(':' in state_key) + 1) = \(server)))
            ORDER BY type, state_key, stream_pos DESC
            """)
        var state: StateMap = [:]
        for try await (id, json) in rows.decode((String, String).self) {
            let ev = Event(eventID: id, json: try JSON.parse(json))
            if let k = ev.stateTuple { state[k] = ev }
        }
        return state
    }
}

extension EventStore {
    /// Every event reachable through `auth_events` from `ids` (those themselves included),
    /// as far as they are stored, keyed by ID: what state resolution v2 reads.
    public func authChainEvents(of ids: [String]) async throws -> [String: Event] {
        var found: [String: Event] = [:]
        var frontier = Array(Set(ids))
        while !frontier.isEmpty {
            let batch = try await events(frontier)
            for s in batch { found[s.event.eventID] = s.event }
            frontier = Array(Set(batch.flatMap(\.event.authEventIDs)).filter { found[$0] == nil })
        }
        return found
    }

    /// The room's state after the event at `pos` (its state included), as the stream has it:
    /// exact while the room's history is a single line up to there.
    public func stateMap(_ roomID: String, atPos pos: Int64) async throws -> StateMap {
        var out: StateMap = [:]
        for s in try await stateAt(roomID, pos: pos) {
            if let k = s.event.stateTuple { out[k] = s.event }
        }
        return out
    }
}

extension EventStore {
    /// The room's forward extremities: the events without children here.
    public func forwardExtremities(_ roomID: String) async throws -> [String] {
        var out: [String] = []
        for try await id in try await db.query("SELECT event_id FROM forward_extremities WHERE room_id = \(roomID)").decode(String.self) {
            out.append(id)
        }
        return out
    }
}
