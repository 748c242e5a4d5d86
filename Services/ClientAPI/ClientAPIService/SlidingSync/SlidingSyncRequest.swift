import MatrixCore
import ServiceKit

/// A `[type, state_key]` selector of `required_state`. The state key may be `*` (any),
/// `$ME` (the requesting user) or, for members, `$LAZY` (senders of the returned timeline).
struct StateSelector: Sendable, Hashable {
    let type: String
    let stateKey: String
}

/// What to return for a room: the superset of the configs of every rule it matches.
struct RoomConfig: Sendable, Hashable {
    var requiredState: Set<StateSelector> = []
    var timelineLimit: Int = 0

    init(requiredState: Set<StateSelector> = [], timelineLimit: Int = 0) {
        self.requiredState = requiredState
        self.timelineLimit = timelineLimit
    }

    init(_ o: [String: JSON]) throws {
        timelineLimit = Int(max(0, min(try o.int("timeline_limit") ?? 0, 1000)))
        for item in try o.array("required_state") ?? [] {
            guard let pair = item.arrayValue, pair.count == 2, let t = pair[0].stringValue, let k = pair[1].stringValue else {
                throw MatrixError.badJSON("required_state entries must be [type, state_key]")
            }
            requiredState.insert(StateSelector(type: t, stateKey: k))
        }
    }

    func merged(_ other: RoomConfig) -> RoomConfig {
        RoomConfig(requiredState: requiredState.union(other.requiredState), timelineLimit: max(timelineLimit, other.timelineLimit))
    }

    /// Stable text form, stored per room to notice config changes.
    var encoded: String {
        let sel = requiredState.sorted { ($0.type, $0.stateKey) < ($1.type, $1.stateKey) }
            .map { JSON.array([.string($0.type), .string($0.stateKey)]) }
        return JSON.object(["required_state": .array(sel), "timeline_limit": .int(Int64(timelineLimit))]).canonicalString
    }

    static func decode(_ s: String) -> RoomConfig? {
        guard let o = try? JSON.parse(s).objectValue else { return nil }
        return try? RoomConfig(o)
    }
}

/// Encodings and decodings of room configs within one response: every room of a list
/// shares its config, so each is done once rather than once per room.
struct RoomConfigMemo {
    private var encodings: [RoomConfig: String] = [:]
    private var decodings: [String: RoomConfig] = [:]

    mutating func encoded(_ c: RoomConfig) -> String {
        if let s = encodings[c] { return s }
        let s = c.encoded
        encodings[c] = s
        return s
    }

    /// A stored config; one that no longer parses counts as empty (everything is sent again).
    mutating func decoded(_ s: String) -> RoomConfig {
        if let c = decodings[s] { return c }
        let c = RoomConfig.decode(s) ?? RoomConfig()
        decodings[s] = c
        return c
    }
}

/// List filters; unset fields do not filter.
struct ListFilters: Sendable {
    var isInvite: Bool?
    var isDM: Bool?
    var spaces: [String]?
    /// Room types; `nil` inside stands for rooms without a type.
    var roomTypes: [String?]?
    var notRoomTypes: [String?] = []

    init(_ o: [String: JSON]) throws {
        isInvite = try o.bool("is_invite")
        isDM = try o.bool("is_dm")
        spaces = try o.stringArray("spaces")
        roomTypes = try Self.types(o, "room_types")
        notRoomTypes = try Self.types(o, "not_room_types") ?? []
    }

    private static func types(_ o: [String: JSON], _ k: String) throws -> [String?]? {
        guard let a = try o.array(k) else { return nil }
        return try a.map { v -> String? in
            if v.isNull { return nil }
            guard let s = v.stringValue else { throw MatrixError.badJSON("\(k) must hold strings or null") }
            return s
        }
    }
}

struct ListRequest: Sendable {
    let ranges: [(Int, Int)]
    let config: RoomConfig
    let filters: ListFilters
}

struct ExtensionsRequest: Sendable {
    var toDevice = false
    var toDeviceSince: Int64?
    var toDeviceLimit = 100
    var e2ee = false
    var accountData = false
    var receipts = false
    var typing = false
    /// Which rooms an extension covers: explicit IDs, or nil for "*" (every room sent or
    /// in a window); `lists` narrows to the rooms of those lists.
    var receiptRooms: [String]?
    var receiptLists: [String]?
    var typingRooms: [String]?
    var typingLists: [String]?
    var accountDataRooms: [String]?
    var accountDataLists: [String]?
}

/// The body Element X sends to the unstable endpoint.
struct SlidingSyncRequest: Sendable {
    let connID: String
    let txnID: String?
    let lists: [String: ListRequest]
    let subscriptions: [String: RoomConfig]
    let extensions: ExtensionsRequest

    init(_ body: [String: JSON]) throws {
        connID = try body.string("conn_id") ?? ""
        txnID = try body.string("txn_id")
        var lists: [String: ListRequest] = [:]
        for (name, v) in try body.object("lists") ?? [:] {
            guard let o = v.objectValue else { throw MatrixError.badJSON("lists.\(name) must be an object") }
            var ranges: [(Int, Int)] = []
            for r in try o.array("ranges") ?? [] {
                guard let pair = r.arrayValue, pair.count == 2, let a = pair[0].intValue, let b = pair[1].intValue, a >= 0, b >= a else {
                    throw MatrixError.badJSON("ranges must hold [start, end] pairs")
                }
                ranges.append((Int(a), Int(min(b, 1_000_000))))
            }
            lists[name] = ListRequest(ranges: ranges, config: try RoomConfig(o), filters: try ListFilters(try o.object("filters") ?? [:]))
        }
        self.lists = lists
        var subs: [String: RoomConfig] = [:]
        for (room, v) in try body.object("room_subscriptions") ?? [:] {
            guard let o = v.objectValue else { throw MatrixError.badJSON("room_subscriptions entries must be objects") }
            subs[room] = try RoomConfig(o)
        }
        subscriptions = subs
        extensions = try Self.extensions(try body.object("extensions") ?? [:])
    }

    private static func extensions(_ o: [String: JSON]) throws -> ExtensionsRequest {
        var x = ExtensionsRequest()
        func enabled(_ k: String) throws -> [String: JSON]? {
            guard let e = try o.object(k), try e.bool("enabled") == true else { return nil }
            return e
        }
        /// `["*"]` or absent means every relevant room.
        func rooms(_ e: [String: JSON]) throws -> [String]? {
            guard let r = try e.stringArray("rooms"), !r.contains("*") else { return nil }
            return r
        }
        func lists(_ e: [String: JSON]) throws -> [String]? {
            guard let l = try e.stringArray("lists"), !l.contains("*") else { return nil }
            return l
        }
        if let e = try enabled("to_device") {
            x.toDevice = true
            if let s = try e.string("since") {
                guard let v = Int64(s), v >= 0 else { throw MatrixError.invalidParam("to_device.since is not a token of this server") }
                x.toDeviceSince = v
            }
            x.toDeviceLimit = Int(max(1, min(try e.int("limit") ?? 100, 1000)))
        }
        x.e2ee = try enabled("e2ee") != nil
        if let e = try enabled("account_data") { x.accountData = true; x.accountDataRooms = try rooms(e); x.accountDataLists = try lists(e) }
        if let e = try enabled("receipts") { x.receipts = true; x.receiptRooms = try rooms(e); x.receiptLists = try lists(e) }
        if let e = try enabled("typing") { x.typing = true; x.typingRooms = try rooms(e); x.typingLists = try lists(e) }
        return x
    }
}

/// The opaque `pos`: stream position, connection key and response seq. It starts like a
/// stream token (`s<pos>_…`), so /messages accepts it too.
struct SlidingSyncPos: Sendable, Equatable {
    let connKey: Int64
    let seq: Int64
    let stream: Int64

    var token: String { "s\(stream)_\(connKey)_\(seq)" }

    static func unknown() -> MatrixError { MatrixError(.badRequest, "M_UNKNOWN_POS", "Unknown or expired pos; start a new connection") }

    static func parse(_ s: String) throws -> SlidingSyncPos {
        guard s.hasPrefix("s") else { throw unknown() }
        let parts = s.dropFirst().split(separator: "_").map { Int64($0) }
        guard parts.count == 3, let p = parts[0], let k = parts[1], let q = parts[2], q >= 0, p >= 0 else { throw unknown() }
        return SlidingSyncPos(connKey: k, seq: q, stream: p)
    }
}
