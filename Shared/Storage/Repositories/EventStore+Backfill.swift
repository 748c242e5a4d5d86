import MatrixCore
import PostgresNIO

/// History fetched from other servers. Backfilled events are timeline events (placement 0)
/// at negative positions from `backfill_positions` (see migration 0009): older than all the
/// room held, ordered by depth within a batch, and each batch below the one before it.
extension EventStore {
    /// The events the room's timeline reaches back to but does not hold: prev events of
    /// its oldest timeline events (the `scan` oldest) that are neither in the timeline nor
    /// rejected. Empty once the timeline starts at the create event.
    public func timelineFrontier(_ roomID: String, scan: Int = 50) async throws -> [String] {
        let oldest = try await decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM events e LEFT JOIN redactions r ON r.redacts = e.event_id
            WHERE e.room_id = \(roomID) AND e.placement = 0 ORDER BY e.stream_pos ASC LIMIT \(scan)
            """))
        let prevs = Array(Set(oldest.flatMap(\.event.prevEventIDs)))
        guard !prevs.isEmpty else { return [] }
        var have = Set<String>()
        for try await id in try await db.query("""
            SELECT event_id FROM events WHERE event_id = ANY(\(prevs)) AND placement = 0
            UNION SELECT event_id FROM rejected_events WHERE event_id = ANY(\(prevs))
            """).decode(String.self) { have.insert(id) }
        return prevs.filter { !have.contains($0) }.sorted()
    }

    /// Stores checked history of a room, `events` newest first: new events are inserted into
    /// the timeline, events held out of it (state from a join, auth events) are moved into it,
    /// each at the next backfill position; timeline events are left where they are. Returns
    /// how many events joined the timeline.
    @discardableResult
    public func storeHistory(_ roomID: String, events newestFirst: [Event]) async throws -> Int {
        guard !newestFirst.isEmpty else { return 0 }
        return try await db.transaction { conn in
            // The room lock serialises this with other writers of the room (in any process);
            // backfill changes neither the room's last position nor its state.
            _ = try await conn.all(LockRooms(rooms: [roomID]), logger: log)
            var placement: [String: Int16] = [:]
            for try await (id, p) in try await conn.query("""
                SELECT event_id, placement FROM events WHERE event_id = ANY(\(newestFirst.map(\.eventID)))
                """, logger: log).decode((String, Int16).self) { placement[id] = p }
            var seen = Set<String>()
            let todo = newestFirst.filter { placement[$0.eventID] != 0 && seen.insert($0.eventID).inserted }
            guard !todo.isEmpty else { return 0 }
            var positions: [Int64] = []
            for try await p in try await conn.query("""
                SELECT nextval('backfill_positions') FROM generate_series(1, \(todo.count))
                """, logger: log).decode(Int64.self) { positions.append(p) }
            positions.sort(by: >)
            var ev = EventColumns()
            var moveIDs: [String] = [], movePos: [Int64] = []
            for (e, p) in zip(todo, positions) {
                if placement[e.eventID] != nil {
                    moveIDs.append(e.eventID); movePos.append(p)
                    continue
                }
                ev.pos.append(p); ev.ids.append(e.eventID); ev.rooms.append(roomID); ev.types.append(e.type)
                ev.isState.append(e.stateKey != nil); ev.keys.append(e.stateKey ?? ""); ev.senders.append(e.sender)
                ev.depths.append(e.depth); ev.tss.append(e.originServerTS)
                let relates = e.content["m.relates_to"]
                ev.rel.append(relates?["event_id"]?.stringValue ?? ""); ev.relType.append(relates?["rel_type"]?.stringValue ?? "")
                ev.txnDev.append(""); ev.txnIDs.append(""); ev.jsons.append(e.json.canonicalString)
                ev.placements.append(EventPlacement.timeline.rawValue)
            }
            if !ev.ids.isEmpty { try await conn.run(InsertEvents(ev), logger: log) }
            if !moveIDs.isEmpty {
                try await conn.query("""
                    UPDATE events e SET stream_pos = x.p, placement = 0
                    FROM unnest(\(moveIDs)::text[], \(movePos)::int8[]) AS x(i, p) WHERE e.event_id = x.i
                    """, logger: log)
            }
            return todo.count
        }
    }
}
