import MatrixCore
import PostgresNIO

/// An event as the hot reads return it: what can change about it (its position, whether it
/// was redacted) from the row, the rest from the event cache. Rows that carried the JSON of
/// every event cost more to send, check and parse than the reads themselves.
struct EventRef: Sendable {
    let eventID: String
    let streamPos: Int64
    let redactedBy: String?
}

extension EventRef {
    /// A row of `EventStore.eventRefColumns`.
    init(_ row: PostgresRow) throws {
        var c = RowCells(row)
        self.init(eventID: try c.next(), streamPos: try c.next(), redactedBy: try c.next())
    }
}

extension EventStore {
    static let eventRefColumns = "e.event_id, e.stream_pos, r.redaction_id"

    /// The events `refs` name, one slot per ref: the cache's, and the rest read in one query.
    /// An event is never deleted, so an empty slot is a bug elsewhere: callers skip it rather
    /// than fail the read.
    func resolve(_ refs: [EventRef]) async throws -> [StoredEvent?] {
        guard !refs.isEmpty else { return [] }
        var bodies = db.eventCache.bodies(refs.map(\.eventID))
        let missing = Set(refs.lazy.map(\.eventID).filter { bodies[$0] == nil })
        if !missing.isEmpty {
            for (id, json, td, ti) in try await db.client.all(EventBodies(Array(missing)), logger: db.logger) {
                bodies[id] = try db.eventCache.body(id, json: json, txnDevice: td, txnID: ti)
            }
        }
        return refs.map { r in
            bodies[r.eventID].map {
                StoredEvent(event: $0.event, streamPos: r.streamPos, redactedBy: r.redactedBy, txnDevice: $0.txnDevice,
                            txnID: $0.txnID, roomVersion: nil)
            }
        }
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
