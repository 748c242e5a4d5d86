import Logging
import MatrixCore
import PostgresNIO

/// A client transaction that produced an event, for idempotent sends.
public struct TxnRef: Sendable {
    public let userID: String
    public let deviceID: String
    public let txnID: String
    public init(userID: String, deviceID: String, txnID: String) {
        self.userID = userID
        self.deviceID = deviceID
        self.txnID = txnID
    }
}

/// A notification the push rules produced for one user.
public struct PushActionRow: Sendable {
    public let userID: String
    public let highlight: Bool
    public let threadID: String
    public let actionsJSON: String
    public init(userID: String, highlight: Bool, threadID: String, actionsJSON: String) {
        self.userID = userID
        self.highlight = highlight
        self.threadID = threadID
        self.actionsJSON = actionsJSON
    }
}

/// Where a stored event stands in its room (`events.placement`).
public enum EventPlacement: Int16, Sendable {
    /// In the timeline, and in the state when it is a state event. History fetched from
    /// other servers is timeline too, at negative positions (`EventStore+Backfill.swift`).
    case timeline = 0
    /// State received with a join over federation: part of the state, never in a timeline.
    case stateOnly = 1
    /// Known only as an auth event of other events: neither timeline nor state.
    case outlier = 2
}

/// One event ready to be stored: already authorised, with its JSON encoded once.
public struct NewEvent: Sendable {
    public let event: Event
    public let json: String
    /// True when the event becomes part of the room's current state.
    public let updatesState: Bool
    public let txn: TxnRef?
    public let pushActions: [PushActionRow]
    public let placement: EventPlacement
    public init(event: Event, json: String, updatesState: Bool, txn: TxnRef?, pushActions: [PushActionRow],
                placement: EventPlacement = .timeline) {
        self.event = event
        self.json = json
        self.updatesState = updatesState
        self.txn = txn
        self.pushActions = pushActions
        self.placement = placement
    }
}

/// Everything one room writes in one commit.
public struct RoomWrite: Sendable {
    public let roomID: String
    /// The room's `last_pos` the writer built on; nil for a new room.
    public let expectedLastPos: Int64?
    public let createRoom: (version: String, creator: String)?
    public let events: [NewEvent]
    public let extremities: [String]
    /// Current-state entries that change to events stored earlier (state resolution across
    /// forks can bring back an older event); applied after `events`.
    public let stateChanges: [Event]
    public init(roomID: String, expectedLastPos: Int64?, createRoom: (version: String, creator: String)?,
                events: [NewEvent], extremities: [String], stateChanges: [Event] = []) {
        self.roomID = roomID
        self.expectedLastPos = expectedLastPos
        self.createRoom = createRoom
        self.events = events
        self.extremities = extremities
        self.stateChanges = stateChanges
    }
}

public enum RoomWriteOutcome: Sendable {
    case committed([Int64])
    /// Another process wrote the room since the writer's cache was loaded: reload and retry.
    case stale
}

/// What a room actor loads to serve writes.
public struct RoomSnapshot: Sendable {
    public let roomID: String
    public let version: String
    public let lastPos: Int64
    public let state: StateMap
    public let extremities: [String]
    public let maxDepth: Int64
}

public struct StoredEvent: Sendable {
    public let event: Event
    public let streamPos: Int64
    public let redactedBy: String?
    public let txnDevice: String?
    public let txnID: String?
    public let roomVersion: String?
}

/// Events, state, memberships and extremities.
public struct EventStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }
    var log: Logger { db.logger }

    // MARK: writing

    /// Stores every room's events in one transaction (group commit). Rooms whose cached
    /// position is stale are skipped and reported as such; the rest commit together.
    public func persist(_ writes: [RoomWrite]) async throws -> [RoomWriteOutcome] {
        try await db.transaction { conn in
            // Room locks in a fixed order, then the stream lock: no deadlocks across processes.
            let roomIDs = Array(Set(writes.map(\.roomID))).sorted()
            _ = try await conn.all(LockRooms(rooms: roomIDs), logger: log)
            let sw = try await StreamWrite.begin(conn, logger: log)

            var lastPos: [String: Int64] = [:]
            for (r, p) in try await conn.all(RoomLastPositions(rooms: roomIDs), logger: log) { lastPos[r] = p }
            // A client transaction already committed (by another process, which this writer's
            // cache cannot know about) must not produce a second event: the write counts as
            // stale, and the writer answers with the stored event when it retries.
            let taken = try await takenTxns(writes.flatMap { $0.events.compactMap(\.txn) }, conn: conn)
            func accept(_ w: RoomWrite) -> Bool {
                Self.isCurrent(w, lastPos) && !w.events.contains { $0.txn.map { taken.contains(Self.txnKey($0)) } ?? false }
            }
            var outcomes: [RoomWriteOutcome] = []
            var accepted: [(RoomWrite, [Int64])] = []
            let total = writes.filter(accept).reduce(0) { $0 + $1.events.count }
            var positions = try await sw.allocate(total)[...]
            for w in writes {
                guard accept(w) else { outcomes.append(.stale); continue }
                let ps = Array(positions.prefix(w.events.count))
                positions = positions.dropFirst(w.events.count)
                accepted.append((w, ps))
                outcomes.append(.committed(ps))
                if let last = ps.last { lastPos[w.roomID] = last }
            }
            try await insert(accepted, conn: conn)
            let head = accepted.flatMap(\.1).max()
            if let head { try await sw.finish(head: head) }
            return outcomes
        }
    }

    static func txnKey(_ t: TxnRef) -> String { "\(t.userID)|\(t.deviceID)|\(t.txnID)" }

    /// Which of `txns` already have an event.
    private func takenTxns(_ txns: [TxnRef], conn: PostgresConnection) async throws -> Set<String> {
        guard !txns.isEmpty else { return [] }
        var taken = Set<String>()
        let rows = try await conn.query("""
            SELECT t.user_id, t.device_id, t.txn_id FROM event_txns t
            JOIN unnest(\(txns.map(\.userID))::text[], \(txns.map(\.deviceID))::text[], \(txns.map(\.txnID))::text[]) AS x(u, d, i)
              ON t.user_id = x.u AND t.device_id = x.d AND t.txn_id = x.i
            """, logger: log)
        for try await (u, d, i) in rows.decode((String, String, String).self) {
            taken.insert(Self.txnKey(TxnRef(userID: u, deviceID: d, txnID: i)))
        }
        return taken
    }

    static func isCurrent(_ w: RoomWrite, _ lastPos: [String: Int64]) -> Bool {
        if w.createRoom != nil { return lastPos[w.roomID] == nil }
        return lastPos[w.roomID] == w.expectedLastPos
    }

    private func insert(_ accepted: [(RoomWrite, [Int64])], conn: PostgresConnection) async throws {
        guard !accepted.isEmpty else { return }
        var ev = EventColumns()
        var statePos: [Int64] = [], stateRoom: [String] = [], stateType: [String] = [], stateKey: [String] = [], stateID: [String] = []
        var memRoom: [String] = [], memUser: [String] = [], memShip: [String] = [], memID: [String] = [], memSender: [String] = [], memPos: [Int64] = []
        var redacts: [String] = [], redactionIDs: [String] = [], redactPos: [Int64] = []
        var txnUser: [String] = [], txnDevice: [String] = [], txnKey: [String] = [], txnEvent: [String] = []
        var paRoom: [String] = [], paEvent: [String] = [], paUser: [String] = [], paPos: [Int64] = []
        var paThread: [String] = [], paHighlight: [Bool] = [], paActions: [String] = []

        for (w, ps) in accepted {
            if let c = w.createRoom {
                try await conn.query("""
                    INSERT INTO rooms (room_id, room_version, creator, created_ts, last_pos)
                    VALUES (\(w.roomID), \(c.version), \(c.creator), \(nowMillis()), 0)
                    """, logger: log)
            }
            for (ne, p) in zip(w.events, ps) {
                let e = ne.event
                ev.pos.append(p); ev.ids.append(e.eventID); ev.rooms.append(w.roomID); ev.types.append(e.type)
                ev.isState.append(e.stateKey != nil); ev.keys.append(e.stateKey ?? ""); ev.senders.append(e.sender)
                ev.depths.append(e.depth); ev.tss.append(e.originServerTS)
                let relates = e.content["m.relates_to"]
                ev.rel.append(relates?["event_id"]?.stringValue ?? ""); ev.relType.append(relates?["rel_type"]?.stringValue ?? "")
                ev.txnDev.append(ne.txn?.deviceID ?? ""); ev.txnIDs.append(ne.txn?.txnID ?? ""); ev.jsons.append(ne.json)
                ev.placements.append(ne.placement.rawValue)
                if ne.updatesState, let sk = e.stateKey {
                    statePos.append(p); stateRoom.append(w.roomID); stateType.append(e.type); stateKey.append(sk); stateID.append(e.eventID)
                    if e.type == "m.room.member", let m = e.membership {
                        memRoom.append(w.roomID); memUser.append(sk); memShip.append(m); memID.append(e.eventID)
                        memSender.append(e.sender); memPos.append(p)
                    }
                }
                if e.type == "m.room.redaction", ne.placement == .timeline, let target = e.redacts {
                    redacts.append(target); redactionIDs.append(e.eventID); redactPos.append(p)
                }
                if let t = ne.txn {
                    txnUser.append(t.userID); txnDevice.append(t.deviceID); txnKey.append(t.txnID); txnEvent.append(e.eventID)
                }
                for a in ne.pushActions {
                    paRoom.append(w.roomID); paEvent.append(e.eventID); paUser.append(a.userID); paPos.append(p)
                    paThread.append(a.threadID); paHighlight.append(a.highlight); paActions.append(a.actionsJSON)
                }
            }
        }
        try await conn.run(InsertEvents(ev), logger: log)
        // State resolution (or a join's state) may make events stored earlier current; they
        // keep their own positions, and an outlier among them becomes part of the state.
        for (w, ps) in accepted where !w.stateChanges.isEmpty {
            let at = ps.last ?? 0
            try await conn.query("""
                UPDATE events SET placement = 1 WHERE event_id = ANY(\(w.stateChanges.map(\.eventID))) AND placement = 2
                """, logger: log)
            for e in w.stateChanges {
                guard let sk = e.stateKey else { continue }
                statePos.append(at); stateRoom.append(w.roomID); stateType.append(e.type); stateKey.append(sk); stateID.append(e.eventID)
                if e.type == "m.room.member", let m = e.membership {
                    memRoom.append(w.roomID); memUser.append(sk); memShip.append(m); memID.append(e.eventID)
                    memSender.append(e.sender); memPos.append(at)
                }
            }
        }
        if !statePos.isEmpty {
            try await conn.run(UpsertCurrentState(rooms: stateRoom, types: stateType, keys: stateKey, ids: stateID, pos: statePos), logger: log)
        }
        if !memPos.isEmpty {
            try await conn.run(UpsertMemberships(rooms: memRoom, users: memUser, memberships: memShip, ids: memID,
                                                 senders: memSender, pos: memPos), logger: log)
        }
        if !redacts.isEmpty {
            try await conn.query("""
                INSERT INTO redactions (redacts, redaction_id, stream_pos)
                SELECT * FROM unnest(\(redacts)::text[], \(redactionIDs)::text[], \(redactPos)::int8[])
                ON CONFLICT (redacts) DO NOTHING
                """, logger: log)
        }
        if !txnUser.isEmpty {
            try await conn.run(InsertEventTxns(users: txnUser, devices: txnDevice, txns: txnKey, events: txnEvent, now: nowMillis()), logger: log)
        }
        if !paPos.isEmpty {
            try await conn.run(InsertPushActions(rooms: paRoom, events: paEvent, users: paUser, pos: paPos, threads: paThread,
                                                 highlights: paHighlight, actions: paActions), logger: log)
        }
        // Extremities and last position per room.
        var exRoom: [String] = [], exID: [String] = [], lpRoom: [String] = [], lpPos: [Int64] = []
        for (w, ps) in accepted {
            for x in w.extremities { exRoom.append(w.roomID); exID.append(x) }
            if let last = ps.last { lpRoom.append(w.roomID); lpPos.append(last) }
        }
        try await conn.run(DeleteExtremities(rooms: lpRoom), logger: log)
        try await conn.run(InsertExtremities(rooms: exRoom, events: exID), logger: log)
        try await conn.run(UpdateRoomPositions(rooms: lpRoom, pos: lpPos), logger: log)
    }

    // MARK: reading

    /// Position of the room's last persisted event (nil for an unknown room): what a room
    /// actor compares its cache with.
    public func lastPos(_ roomID: String) async throws -> Int64? {
        for try await p in try await db.query("SELECT last_pos FROM rooms WHERE room_id = \(roomID)").decode(Int64.self) { return p }
        return nil
    }

    public func roomVersion(_ roomID: String) async throws -> String? {
        for try await v in try await db.query("SELECT room_version FROM rooms WHERE room_id = \(roomID)").decode(String.self) { return v }
        return nil
    }

    /// Current state, extremities and position of a room, for its actor's cache.
    public func loadSnapshot(_ roomID: String) async throws -> RoomSnapshot? {
        var version: String?, lastPos: Int64 = 0
        for try await (v, p) in try await db.query("SELECT room_version, last_pos FROM rooms WHERE room_id = \(roomID)").decode((String, Int64).self) {
            version = v; lastPos = p
        }
        guard let version else { return nil }
        var state: StateMap = [:]
        let rows = try await db.query("""
            SELECT e.event_id, e.json FROM current_state c JOIN events e ON e.event_id = c.event_id WHERE c.room_id = \(roomID)
            """)
        for try await (id, json) in rows.decode((String, String).self) {
            let ev = Event(eventID: id, json: try JSON.parse(json))
            if let k = ev.stateTuple { state[k] = ev }
        }
        var ext: [String] = []
        for try await id in try await db.query("SELECT event_id FROM forward_extremities WHERE room_id = \(roomID)").decode(String.self) { ext.append(id) }
        var depth: Int64 = 0
        for try await d in try await db.query("SELECT COALESCE(MAX(depth), 0) FROM events WHERE room_id = \(roomID)").decode(Int64.self) { depth = d }
        return RoomSnapshot(roomID: roomID, version: version, lastPos: lastPos, state: state, extremities: ext, maxDepth: depth)
    }

    static let eventColumns = "e.event_id, e.json, e.stream_pos, r.redaction_id, e.txn_device, e.txn_id"

    /// The row shape of `eventColumns`.
    typealias EventColumnsRow = (String, String, Int64, String?, String?, String?)

    static func storedEvent(_ c: EventColumnsRow) throws -> StoredEvent {
        StoredEvent(event: Event(eventID: c.0, json: try JSON.parse(c.1)), streamPos: c.2, redactedBy: c.3,
                    txnDevice: c.4, txnID: c.5, roomVersion: nil)
    }

    static func decodeEvents(_ rows: PostgresRowSequence) async throws -> [StoredEvent] {
        var out: [StoredEvent] = []
        for try await c in rows.decode(EventColumnsRow.self) { out.append(try storedEvent(c)) }
        return out
    }

    public func event(_ eventID: String) async throws -> StoredEvent? {
        try await Self.decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM events e LEFT JOIN redactions r ON r.redacts = e.event_id
            WHERE e.event_id = \(eventID)
            """)).first
    }

    public func events(_ eventIDs: [String]) async throws -> [StoredEvent] {
        guard !eventIDs.isEmpty else { return [] }
        return try await Self.decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM events e LEFT JOIN redactions r ON r.redacts = e.event_id
            WHERE e.event_id = ANY(\(eventIDs)) ORDER BY e.stream_pos
            """))
    }

    /// Events of a room between two positions (exclusive `after`, inclusive `upTo`), newest first
    /// when `backwards`, at most `limit`.
    public func roomEvents(_ roomID: String, after: Int64, upTo: Int64, limit: Int, backwards: Bool) async throws -> [StoredEvent] {
        let order = backwards ? "DESC" : "ASC"
        return try await Self.decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM events e LEFT JOIN redactions r ON r.redacts = e.event_id
            WHERE e.room_id = \(roomID) AND e.stream_pos > \(after) AND e.stream_pos <= \(upTo) AND e.placement = 0
            ORDER BY e.stream_pos \(unescaped: order) LIMIT \(limit)
            """))
    }

    /// Which of `rooms` have events between two positions: an incremental sync only looks
    /// closer at those.
    public func roomsWithEvents(_ rooms: [String], after: Int64, upTo: Int64) async throws -> Set<String> {
        guard !rooms.isEmpty, upTo > after else { return [] }
        var out = Set<String>()
        for try await r in try await db.query("""
            SELECT DISTINCT room_id FROM events WHERE room_id = ANY(\(rooms)) AND stream_pos > \(after) AND stream_pos <= \(upTo)
              AND placement = 0
            """).decode(String.self) { out.insert(r) }
        return out
    }

    /// The room's state at a position: the latest accepted state event per key at or before `pos`.
    public func stateAt(_ roomID: String, pos: Int64) async throws -> [StoredEvent] {
        try await Self.decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM (
                SELECT DISTINCT ON (type, state_key) * FROM events
                WHERE room_id = \(roomID) AND state_key IS NOT NULL AND stream_pos <= \(pos) AND placement < 2
                ORDER BY type, state_key, stream_pos DESC) e
            LEFT JOIN redactions r ON r.redacts = e.event_id
            """))
    }

    public func currentState(_ roomID: String) async throws -> [StoredEvent] {
        try await Self.decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM current_state c JOIN events e ON e.event_id = c.event_id
            LEFT JOIN redactions r ON r.redacts = e.event_id WHERE c.room_id = \(roomID)
            """))
    }

    public func currentStateEvent(_ roomID: String, type: String, stateKey: String) async throws -> StoredEvent? {
        try await Self.decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM current_state c JOIN events e ON e.event_id = c.event_id
            LEFT JOIN redactions r ON r.redacts = e.event_id
            WHERE c.room_id = \(roomID) AND c.type = \(type) AND c.state_key = \(stateKey)
            """)).first
    }

    public func txnEvent(_ t: TxnRef) async throws -> String? {
        for try await id in try await db.client.execute(TxnEventID(t), logger: db.logger) { return id }
        return nil
    }

    /// Events relating to `eventID`, newest first, optionally filtered.
    public func relations(_ roomID: String, eventID: String, relType: String?, eventType: String?,
                          before: Int64, after: Int64, limit: Int, backwards: Bool) async throws -> [StoredEvent] {
        let order = backwards ? "DESC" : "ASC"
        return try await Self.decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM events e LEFT JOIN redactions r ON r.redacts = e.event_id
            WHERE e.room_id = \(roomID) AND e.relates_to = \(eventID)
              AND (\(relType)::text IS NULL OR e.rel_type = \(relType))
              AND (\(eventType)::text IS NULL OR e.type = \(eventType))
              AND e.stream_pos < \(before) AND e.stream_pos > \(after) AND e.placement = 0
            ORDER BY e.stream_pos \(unescaped: order) LIMIT \(limit)
            """))
    }
}
