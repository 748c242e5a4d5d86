/// A persisted data unit (PDU) with its JSON as the single source of truth.
/// Accessors read the fields every algorithm needs; `eventID` is carried separately
/// because from room version 3 it is not part of the JSON but derived from it.
public struct Event: Sendable, Hashable {
    public let eventID: String
    public let json: JSON
    /// The fields every reader asks for, read off the JSON once: each is a hashed lookup.
    public let type: String
    public let sender: String
    public let stateKey: String?
    private let jsonRoomID: String?

    public init(eventID: String, json: JSON) {
        self.eventID = eventID
        self.json = json
        type = json["type"]?.stringValue ?? ""
        sender = json["sender"]?.stringValue ?? ""
        stateKey = json["state_key"]?.stringValue
        jsonRoomID = json["room_id"]?.stringValue
    }

    /// The room ID; a v12 create event has none in its JSON and defines it from its own ID.
    public var roomID: String {
        if let r = jsonRoomID { return r }
        if type == "m.room.create", eventID.hasPrefix("$") { return "!" + eventID.dropFirst() }
        return ""
    }

    // The JSON is the event: the fields above are copies of it.
    public static func == (a: Event, b: Event) -> Bool { a.eventID == b.eventID && a.json == b.json }
    public func hash(into h: inout Hasher) {
        h.combine(eventID)
        h.combine(json)
    }

    public var isState: Bool { stateKey != nil }
    public var content: JSON { json["content"] ?? .object([:]) }
    public var depth: Int64 { json["depth"]?.intValue ?? 0 }
    public var originServerTS: Int64 { json["origin_server_ts"]?.intValue ?? 0 }
    public var redacts: String? { json["redacts"]?.stringValue ?? content["redacts"]?.stringValue }
    public var membership: String? { type == "m.room.member" ? content["membership"]?.stringValue : nil }

    /// Event IDs referenced in `prev_events`; v1/v2 use `[[id, hashes], …]` pairs.
    public var prevEventIDs: [String] { Event.ids(json["prev_events"]) }
    public var authEventIDs: [String] { Event.ids(json["auth_events"]) }

    static func ids(_ v: JSON?) -> [String] {
        guard let a = v?.arrayValue else { return [] }
        return a.compactMap { item in
            if let s = item.stringValue { return s }
            return item[0]?.stringValue
        }
    }

    /// The (type, state_key) pair this state event sets.
    public var stateTuple: StateKey? { stateKey.map { StateKey(type: type, stateKey: $0) } }
}

/// A key into room state.
public struct StateKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let type: String
    public let stateKey: String
    public init(type: String, stateKey: String) {
        self.type = type
        self.stateKey = stateKey
    }
    public init(_ type: String, _ stateKey: String) { self.init(type: type, stateKey: stateKey) }
    public static func < (a: StateKey, b: StateKey) -> Bool {
        (a.type, a.stateKey) < (b.type, b.stateKey)
    }
    public var description: String { "(\(type), \(stateKey))" }

    public static let create = StateKey("m.room.create", "")
    public static let powerLevels = StateKey("m.room.power_levels", "")
    public static let joinRules = StateKey("m.room.join_rules", "")
    public static let historyVisibility = StateKey("m.room.history_visibility", "")
    public static func member(_ userID: String) -> StateKey { StateKey("m.room.member", userID) }
}

/// Room state: one event per (type, state_key).
public typealias StateMap = [StateKey: Event]
