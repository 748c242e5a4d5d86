import Logging
import PostgresNIO

/// Positions from the one stream sequence, handed out under a transaction-scoped advisory
/// lock that is held until commit. Commits that allocate positions are therefore serialised,
/// so a reader that sees position N has also seen every position below N: no gaps at read
/// time, across all processes. Writers batch to keep the lock's cost per item small.
public struct StreamWrite: Sendable {
    public static let lockKey: Int64 = 7236330002

    let conn: PostgresConnection
    let logger: Logger

    /// Takes the stream lock; call first thing inside the transaction.
    public static func begin(_ conn: PostgresConnection, logger: Logger) async throws -> StreamWrite {
        _ = try await conn.all(TakeStreamLock(key: lockKey), logger: logger)
        return StreamWrite(conn: conn, logger: logger)
    }

    /// `count` fresh positions, ascending.
    public func allocate(_ count: Int) async throws -> [Int64] {
        guard count > 0 else { return [] }
        return try await conn.all(AllocatePositions(count: count), logger: logger).sorted()
    }

    public func allocateOne() async throws -> Int64 { try await allocate(1)[0] }

    /// Publishes the new head; call last, before commit.
    public func finish(head: Int64) async throws {
        try await conn.run(PublishHead(head: head), logger: logger)
    }
}

extension Database {
    /// A transaction that allocates stream positions. `body` returns its result and the highest
    /// position it used (nil if none).
    public func streamTransaction<T: Sendable>(
        _ body: (PostgresConnection, StreamWrite) async throws -> (T, Int64?)
    ) async throws -> T {
        try await transaction { conn in
            let sw = try await StreamWrite.begin(conn, logger: logger)
            let (result, head) = try await body(conn, sw)
            if let head { try await sw.finish(head: head) }
            return result
        }
    }

    /// Runs a single-position write: allocates one position, passes it to `body`.
    public func writeAtNewPosition(_ body: (PostgresConnection, Int64) async throws -> Void) async throws -> Int64 {
        try await streamTransaction { conn, sw in
            let pos = try await sw.allocateOne()
            try await body(conn, pos)
            return (pos, pos)
        }
    }

    public func currentStreamHead() async throws -> Int64 {
        for try await p in try await client.execute(ReadHead(), logger: logger) { return p }
        return 0
    }
}
