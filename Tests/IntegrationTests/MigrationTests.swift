import Storage
import Testing

/// The migrator against empty databases: idempotent, recorded, safe to race.
@Suite struct MigrationTests {
    @Test func applyingTwiceIsANoOp() async throws {
        try await withFreshDatabase(migrated: false) { tdb in
            let bundled = try Migrator.bundled().map(\.version)
            #expect(bundled.first == 1)

            let first = try await Migrator(db: tdb.db).migrate()
            #expect(first == bundled)
            let second = try await Migrator(db: tdb.db).migrate()
            #expect(second.isEmpty)

            let recorded = try await tdb.db.int64s("SELECT version::int8 FROM schema_migrations ORDER BY version")
            #expect(recorded == bundled.map(Int64.init))
            #expect(recorded.contains(1))
            // The schema is usable: the stream head starts at zero.
            #expect(try await tdb.db.currentStreamHead() == 0)
        }
    }

    @Test func twoMigratorsRacingBothSucceed() async throws {
        try await withFreshDatabase(migrated: false) { tdb in
            let bundled = try Migrator.bundled().map(\.version)
            // Two pools: two processes starting at once.
            let (a, b) = try await tdb.withSecondPool { other in
                async let a = Migrator(db: tdb.db).migrate()
                async let b = Migrator(db: other).migrate()
                return try await (a, b)
            }
            // Exactly one of them applied everything; the other found nothing left to do.
            #expect(Set([a, b]) == Set([bundled, []]))
            let recorded = try await tdb.db.int64s("SELECT version::int8 FROM schema_migrations ORDER BY version")
            #expect(recorded == bundled.map(Int64.init))
            #expect(try await tdb.db.int64("SELECT count(*) FROM stream_head") == 1)
        }
    }
}
