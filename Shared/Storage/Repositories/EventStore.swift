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

/// What the push rules made of one event: the notified members' rows, and every member
/// they were run for.
public struct PushOutcome: Sendable {
    public let rows: [PushActionRow]
    public let recipients: [String]
    public init(rows: [PushActionRow], recipients: [String]) {
        self.rows = rows
        self.recipients = recipients
    }
    public static let none = PushOutcome(rows: [], recipients: [])
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
    /// Every member the push rules were run for (notified or not); empty when unknown, and
    /// then every notification is stored as its own row (see `NotificationLayout`).
    public let pushRecipients: [String]
    public let placement: EventPlacement
    public init(event: Event, json: String, updatesState: Bool, txn: TxnRef?, pushActions: [PushActionRow],
                pushRecipients: [String] = [], placement: EventPlacement = .timeline) {
        self.event = event
        self.json = json
        self.updatesState = updatesState
        self.txn = txn
        self.pushActions = pushActions
        self.pushRecipients = pushRecipients
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
    /// forks can bring back an older event); applied after `events`, except on a key one of
    /// `events` itself sets (a join stored with the state from before it).
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
    /// position is stale are skipped and reported as such; the rest commit together. The whole
    /// commit is one call of a database function (`PersistRoomWrites`): one round trip.
    public func persist(_ writes: [RoomWrite]) async throws -> [RoomWriteOutcome] {
        guard !writes.isEmpty else { return [] }
        var result: ([Bool], [Int64])?
        for try await row in try await db.client.execute(PersistRoomWrites(writes, now: nowMillis()), logger: log) {
            result = row
        }
        guard let (accepted, positions) = result, accepted.count == writes.count else {
            throw StorageError.unexpected("myelin_persist_room_writes returned no outcome per write")
        }
        var rest = positions[...]
        return zip(writes, accepted).map { w, ok in
            guard ok else { return .stale }
            keepInCache(w.events)
            let ps = Array(rest.prefix(w.events.count))
            rest = rest.dropFirst(w.events.count)
            return .committed(ps)
        }
    }

    /// Readers of new events (every long-poll a message wakes) find them parsed. Only events
    /// whose ID is their hash: an ID cannot then name another event, even one this write
    /// lost to as a duplicate.
    private func keepInCache(_ events: [NewEvent]) {
        for ne in events where !ne.event.eventID.contains(":") {
            let device = ne.txn.flatMap { $0.deviceID.isEmpty ? nil : $0.deviceID }
            let txnID = ne.txn.flatMap { $0.txnID.isEmpty ? nil : $0.txnID }
            db.eventCache.keep(ne.event, bytes: ne.json.utf8.count, txnDevice: device, txnID: txnID)
        }
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

    /// A row of `eventColumns` as an event, parsed unless the cache holds it.
    func storedEvent(_ c: EventColumnsRow) throws -> StoredEvent {
        let b = try db.eventCache.body(c.0, json: c.1, txnDevice: c.4, txnID: c.5)
        return StoredEvent(event: b.event, streamPos: c.2, redactedBy: c.3, txnDevice: b.txnDevice, txnID: b.txnID, roomVersion: nil)
    }

    func decodeEvents(_ rows: PostgresRowSequence) async throws -> [StoredEvent] {
        var out: [StoredEvent] = []
        for try await c in rows.decode(EventColumnsRow.self) { out.append(try storedEvent(c)) }
        return out
    }

    public func event(_ eventID: String) async throws -> StoredEvent? {
        try await decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM events e LEFT JOIN redactions r ON r.redacts = e.event_id
            WHERE e.event_id = \(eventID)
            """)).first
    }

    public func events(_ eventIDs: [String]) async throws -> [StoredEvent] {
        guard !eventIDs.isEmpty else { return [] }
        return try await decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM events e LEFT JOIN redactions r ON r.redacts = e.event_id
            WHERE e.event_id = ANY(\(eventIDs)) ORDER BY e.stream_pos
            """))
    }

    /// Events of a room between two positions (exclusive `after`, inclusive `upTo`), newest first
    /// when `backwards`, at most `limit`.
    public func roomEvents(_ roomID: String, after: Int64, upTo: Int64, limit: Int, backwards: Bool) async throws -> [StoredEvent] {
        let order = backwards ? "DESC" : "ASC"
        return try await decodeEvents(db.query("""
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
        try await decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM (
                SELECT DISTINCT ON (type, state_key) * FROM events
                WHERE room_id = \(roomID) AND state_key IS NOT NULL AND stream_pos <= \(pos) AND placement < 2
                ORDER BY type, state_key, stream_pos DESC) e
            LEFT JOIN redactions r ON r.redacts = e.event_id
            """))
    }

    public func currentState(_ roomID: String) async throws -> [StoredEvent] {
        try await decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM current_state c JOIN events e ON e.event_id = c.event_id
            LEFT JOIN redactions r ON r.redacts = e.event_id WHERE c.room_id = \(roomID)
            """))
    }

    public func currentStateEvent(_ roomID: String, type: String, stateKey: String) async throws -> StoredEvent? {
        try await decodeEvents(db.query("""
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
        return try await decodeEvents(db.query("""
            SELECT \(unescaped: Self.eventColumns) FROM events e LEFT JOIN redactions r ON r.redacts = e.event_id
            WHERE e.room_id = \(roomID) AND e.relates_to = \(eventID)
              AND (\(relType)::text IS NULL OR e.rel_type = \(relType))
              AND (\(eventType)::text IS NULL OR e.type = \(eventType))
              AND e.stream_pos < \(before) AND e.stream_pos > \(after) AND e.placement = 0
            ORDER BY e.stream_pos \(unescaped: order) LIMIT \(limit)
            """))
    }
}
