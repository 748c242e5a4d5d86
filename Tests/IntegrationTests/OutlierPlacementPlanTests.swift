import PostgresNIO
@testable import Storage
import Testing

/// The commit's update of outliers that became state must not scan the events table: its
/// plan is made once per connection, on a table that may still be small.
@Suite(.serialized, .freshDatabase)
struct OutlierPlacementPlanTests {
    @Test func outliersAreFoundThroughTheirIndexWhateverTheTableSize() async throws {
        let db = try TestDatabase.current().db
        // A few thousand events: small enough that, without the outliers' index, a sequential
        // scan looks cheapest to the planner.
        try await db.query("""
            INSERT INTO events (stream_pos, event_id, room_id, type, sender, depth, origin_server_ts, json, placement)
            SELECT nextval('stream_positions'), '$plan' || g, '!plan:myelin.test', 'm.room.message', '@a:myelin.test', g, 0,
                   '{}', CASE WHEN g % 500 = 0 THEN 2 ELSE 0 END
            FROM generate_series(1, 3000) AS g
            """)
        try await db.query("ANALYZE events")
        // The statement as myelin_persist_room_writes (migration 0014) runs it, with its
        // parameters, planned generically as every connection of the pool plans it.
        let plan = try await db.client.withConnection { conn -> String in
            try await conn.query("SET plan_cache_mode = force_generic_plan", logger: db.logger)
            try await conn.query("""
                PREPARE outliers(text[], int[], bool[]) AS UPDATE events SET placement = 1
                WHERE placement = 2 AND event_id IN (SELECT $1[s] FROM generate_subscripts($2, 1) AS s WHERE $3[$2[s]])
                """, logger: db.logger)
            var lines: [String] = []
            for try await line in try await conn.query("EXPLAIN EXECUTE outliers('{}', '{}', '{}')", logger: db.logger)
                .decode(String.self) {
                lines.append(line)
            }
            try await conn.query("DEALLOCATE outliers", logger: db.logger)
            return lines.joined(separator: "\n")
        }
        #expect(plan.contains("events_outliers"), "\(plan)")
        #expect(!plan.contains("Seq Scan on events"), "\(plan)")
    }
}
