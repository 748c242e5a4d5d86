import PostgresNIO

/// The room-list reads every sliding-sync request makes (`EventStore+RoomActivity`),
/// prepared once per connection: unprepared, Postgres plans each one on every request.

/// $1 rooms, $2 types, $3 position: per room, the position of its latest event of one of
/// the types at or before the position (NULL when it has none). The room's last few events
/// are looked at first, newest first, a short backward walk of its index (usually one row):
/// asked with the type filter alone, the planner may read every event of a room whose size
/// the statistics do not know yet.
struct LatestPositionsOfTypes: BoundStatement {
    static let sql = """
        SELECT x.r, coalesce(
            (SELECT t.stream_pos FROM (
                SELECT e.stream_pos, e.type FROM events e WHERE e.room_id = x.r AND e.stream_pos <= $3 AND e.placement = 0
                ORDER BY e.stream_pos DESC LIMIT 8) AS t
             WHERE t.type = ANY($2) ORDER BY t.stream_pos DESC LIMIT 1),
            (SELECT e.stream_pos FROM events e WHERE e.room_id = x.r AND e.type = ANY($2)
                AND e.stream_pos <= $3 AND e.placement = 0 ORDER BY e.stream_pos DESC LIMIT 1))
        FROM unnest($1::text[]) AS x(r)
        """
    let bindings: PostgresBindings
    init(rooms: [String], types: [String], upTo: Int64) {
        bindings = bind { $0.append(rooms); $0.append(types); $0.append(upTo) }
    }
    func decodeRow(_ row: PostgresRow) throws -> (String, Int64?) { try row.decode((String, Int64?).self) }
}

/// $1 rooms: the position of each room's last persisted event.
struct LastPositionsOfRooms: BoundStatement {
    static let sql = "SELECT room_id, last_pos FROM rooms WHERE room_id = ANY($1)"
    let bindings: PostgresBindings
    init(rooms: [String]) { bindings = bind { $0.append(rooms) } }
    func decodeRow(_ row: PostgresRow) throws -> (String, Int64) { try row.decode((String, Int64).self) }
}

/// $1 room, $2 position, $3 types, $4 and $5 (type, state key) pairs: the room's current state
/// events of one of the types (any state key) or one of the pairs, changed after the position,
/// without their JSON (see `EventRef`).
struct SelectedCurrentState: BoundStatement {
    static let sql = """
        SELECT \(EventStore.eventRefColumns) FROM current_state c JOIN events e ON e.event_id = c.event_id
        LEFT JOIN redactions r ON r.redacts = e.event_id
        WHERE c.room_id = $1 AND c.stream_pos > $2
          AND (c.type = ANY($3) OR (c.type, c.state_key) IN (SELECT * FROM unnest($4::text[], $5::text[])))
        """
    let bindings: PostgresBindings
    init(roomID: String, changedAfter: Int64, anyKeyTypes: [String], pairs: [(String, String)]) {
        bindings = bind {
            $0.append(roomID); $0.append(changedAfter); $0.append(anyKeyTypes)
            $0.append(pairs.map(\.0)); $0.append(pairs.map(\.1))
        }
    }
    func decodeRow(_ row: PostgresRow) throws -> EventRef { try EventRef(row) }
}

/// $1 room, $2 position: the room's current state events that changed after the position,
/// without their JSON (see `EventRef`).
struct CurrentStateChangedAfter: BoundStatement {
    static let sql = """
        SELECT \(EventStore.eventRefColumns) FROM current_state c JOIN events e ON e.event_id = c.event_id
        LEFT JOIN redactions r ON r.redacts = e.event_id WHERE c.room_id = $1 AND c.stream_pos > $2
        """
    let bindings: PostgresBindings
    init(roomID: String, after: Int64) { bindings = bind { $0.append(roomID); $0.append(after) } }
    func decodeRow(_ row: PostgresRow) throws -> EventRef { try EventRef(row) }
}
