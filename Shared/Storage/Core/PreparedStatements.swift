import PostgresNIO

/// A statement prepared once per pooled connection and then executed by name: the event
/// path and token lookups skip parsing and planning on every call. Each statement is its own
/// type because the statement name comes from the type.
protocol BoundStatement: PostgresPreparedStatement {
    var bindings: PostgresBindings { get }
}

extension BoundStatement {
    func makeBindings() throws -> PostgresBindings { bindings }
}

/// Builds bindings from a list of values.
func bind(_ build: (inout PostgresBindings) throws -> Void) rethrows -> PostgresBindings {
    var b = PostgresBindings()
    try build(&b)
    return b
}

/// A statement whose rows are not read.
protocol CommandStatement: BoundStatement where Row == () {}
extension CommandStatement {
    func decodeRow(_ row: PostgresRow) throws {}
}

extension PostgresConnection {
    /// Executes a statement and waits for it to complete.
    func run<S: CommandStatement>(_ s: S, logger: Logger) async throws {
        _ = try await execute(s, logger: logger)
    }

    /// Executes a statement and collects its rows.
    func all<S: BoundStatement>(_ s: S, logger: Logger) async throws -> [S.Row] {
        var out: [S.Row] = []
        for try await r in try await execute(s, logger: logger) { out.append(r) }
        return out
    }
}

extension PostgresClient {
    /// Executes a statement on a pooled connection and collects its rows.
    func all<S: BoundStatement>(_ s: S, logger: Logger) async throws -> [S.Row] {
        var out: [S.Row] = []
        for try await r in try await execute(s, logger: logger) { out.append(r) }
        return out
    }
}

// MARK: stream positions

struct TakeStreamLock: BoundStatement {
    static let sql = "SELECT true FROM pg_advisory_xact_lock($1)"
    let bindings: PostgresBindings
    init(key: Int64) { bindings = bind { $0.append(key) } }
    func decodeRow(_ row: PostgresRow) throws -> Bool { try row.decode(Bool.self) }
}

struct AllocatePositions: BoundStatement {
    static let sql = "SELECT nextval('stream_positions') FROM generate_series(1, $1::int8)"
    let bindings: PostgresBindings
    init(count: Int) { bindings = bind { $0.append(Int64(count)) } }
    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

struct PublishHead: CommandStatement {
    static let sql = "UPDATE stream_head SET pos = GREATEST(pos, $1)"
    let bindings: PostgresBindings
    init(head: Int64) { bindings = bind { $0.append(head) } }
}

struct ReadHead: BoundStatement {
    static let sql = "SELECT pos FROM stream_head"
    let bindings = PostgresBindings()
    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

// MARK: the event path

struct LockRooms: BoundStatement {
    static let sql = """
        SELECT count(*) FROM (SELECT pg_advisory_xact_lock(hashtextextended(r, 0))
                              FROM unnest($1::text[]) AS r ORDER BY r) AS locked
        """
    let bindings: PostgresBindings
    init(rooms: [String]) { bindings = bind { $0.append(rooms) } }
    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

struct InsertEvents: CommandStatement {
    static let sql = """
        INSERT INTO events (stream_pos, event_id, room_id, type, state_key, sender, depth, origin_server_ts,
                            relates_to, rel_type, txn_device, txn_id, json, placement)
        SELECT p, i, r, t, CASE WHEN s THEN k END, snd, d, ts, NULLIF(rl, ''), NULLIF(rt, ''), NULLIF(td, ''), NULLIF(ti, ''), j, pl
        FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::text[], $7::text[], $8::int8[],
                    $9::int8[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::int2[])
            AS x(p, i, r, t, s, k, snd, d, ts, rl, rt, td, ti, j, pl)
        """
    let bindings: PostgresBindings
    init(_ c: EventColumns) {
        bindings = bind {
            $0.append(c.pos); $0.append(c.ids); $0.append(c.rooms); $0.append(c.types); $0.append(c.isState)
            $0.append(c.keys); $0.append(c.senders); $0.append(c.depths); $0.append(c.tss); $0.append(c.rel)
            $0.append(c.relType); $0.append(c.txnDev); $0.append(c.txnIDs); $0.append(c.jsons); $0.append(c.placements)
        }
    }
}

/// Column arrays for one multi-row event insert.
struct EventColumns {
    var pos: [Int64] = [], ids: [String] = [], rooms: [String] = [], types: [String] = []
    var isState: [Bool] = [], keys: [String] = [], senders: [String] = [], depths: [Int64] = []
    var tss: [Int64] = [], rel: [String] = [], relType: [String] = [], txnDev: [String] = []
    var txnIDs: [String] = [], jsons: [String] = [], placements: [Int16] = []
}

// MARK: authentication

struct LookupToken: BoundStatement {
    static let sql = """
        SELECT t.user_id, t.device_id, u.is_admin FROM access_tokens t JOIN users u ON u.user_id = t.user_id
        WHERE t.token_hash = $1 AND NOT u.deactivated
        """
    let bindings: PostgresBindings
    init(hash: String) { bindings = bind { $0.append(hash) } }
    func decodeRow(_ row: PostgresRow) throws -> (String, String, Bool) { try row.decode((String, String, Bool).self) }
}

/// A row's columns decoded one at a time, in order. Decoding a whole row as one variadic
/// tuple instantiates generic metadata on every row: for the wide reads of a sync (a
/// hundred memberships, state and timeline refs) that cost more than the query itself.
struct RowCells {
    private var cells: PostgresRow.Iterator
    init(_ row: PostgresRow) { cells = row.makeIterator() }

    mutating func next<T: PostgresDecodable>(_: T.Type = T.self) throws -> T {
        guard let cell = cells.next() else { throw StorageError.unexpected("a row has fewer columns than its statement") }
        return try cell.decode(T.self)
    }
}
