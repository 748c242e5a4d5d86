import MatrixCore
import ServiceKit
import Storage

/// A RoomEventFilter: what a timeline, /messages or state may contain.
struct RoomEventFilter: Sendable {
    var limit: Int?
    var types: [String]?
    var notTypes: [String] = []
    var senders: [String]?
    var notSenders: [String] = []
    var rooms: [String]?
    var notRooms: [String] = []
    var lazyLoadMembers = false
    var includeRedundantMembers = false
    var containsURL: Bool?

    init() {}

    init(_ o: [String: JSON]) throws {
        limit = try o.int("limit").map { Int(max(0, min($0, 1000))) }
        types = try o.stringArray("types")
        notTypes = try o.stringArray("not_types") ?? []
        senders = try o.stringArray("senders")
        notSenders = try o.stringArray("not_senders") ?? []
        rooms = try o.stringArray("rooms")
        notRooms = try o.stringArray("not_rooms") ?? []
        lazyLoadMembers = try o.bool("lazy_load_members") ?? false
        includeRedundantMembers = try o.bool("include_redundant_members") ?? false
        containsURL = try o.bool("contains_url")
    }

    static func parse(_ s: String) throws -> RoomEventFilter {
        guard let j = try? JSON.parse(s), let o = j.objectValue else { throw MatrixError.badJSON("filter must be a JSON object") }
        return try RoomEventFilter(o)
    }

    /// Matches type patterns with `*` wildcards, as the spec allows.
    static func typeMatches(_ pattern: String, _ type: String) -> Bool {
        guard pattern.contains("*") else { return pattern == type }
        if pattern.hasSuffix("*"), !pattern.dropLast().contains("*") { return type.hasPrefix(pattern.dropLast()) }
        return pattern == type
    }

    /// `types: []`: the client wants none of this section.
    var excludesAll: Bool { types?.isEmpty ?? false }

    /// Whether an event of this type passes the type lists (sections whose events have no sender
    /// or room of their own, such as account data and presence).
    func allowsType(_ type: String) -> Bool {
        if notTypes.contains(where: { Self.typeMatches($0, type) }) { return false }
        if let types, !types.contains(where: { Self.typeMatches($0, type) }) { return false }
        return true
    }

    func allowsSender(_ sender: String) -> Bool {
        !notSenders.contains(sender) && (senders?.contains(sender) ?? true)
    }

    func allowsRoom(_ roomID: String) -> Bool {
        if notRooms.contains(roomID) { return false }
        if let rooms { return rooms.contains(roomID) }
        return true
    }

    func matches(_ e: Event) -> Bool {
        if notTypes.contains(where: { Self.typeMatches($0, e.type) }) { return false }
        if let types, !types.contains(where: { Self.typeMatches($0, e.type) }) { return false }
        if notSenders.contains(e.sender) { return false }
        if let senders, !senders.contains(e.sender) { return false }
        if let containsURL {
            let has = e.content["url"]?.stringValue != nil
            if has != containsURL { return false }
        }
        return true
    }

    func apply(_ list: [StoredEvent], ignoring ignored: Set<String>) async throws -> [StoredEvent] {
        list.filter { matches($0.event) && !(ignored.contains($0.event.sender) && !$0.event.isState) }
    }
}

/// A whole sync filter (`/user/{id}/filter` or inline).
struct SyncFilter: Sendable {
    var timeline = RoomEventFilter()
    var state = RoomEventFilter()
    var ephemeral = RoomEventFilter()
    var roomAccountData = RoomEventFilter()
    var accountData = RoomEventFilter()
    var presence = RoomEventFilter()
    var rooms: RoomEventFilter = RoomEventFilter()
    var includeLeave = false

    init() {}

    init(_ o: [String: JSON]) throws {
        if let room = try o.object("room") {
            rooms = try RoomEventFilter(room)
            timeline = try RoomEventFilter(try room.object("timeline") ?? [:])
            state = try RoomEventFilter(try room.object("state") ?? [:])
            ephemeral = try RoomEventFilter(try room.object("ephemeral") ?? [:])
            roomAccountData = try RoomEventFilter(try room.object("account_data") ?? [:])
            includeLeave = try room.bool("include_leave") ?? false
        }
        accountData = try RoomEventFilter(try o.object("account_data") ?? [:])
        presence = try RoomEventFilter(try o.object("presence") ?? [:])
    }
}

extension ClientAPI {
    func filterRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/v3/user/:userId/filter") { [self] req in
            guard try req.param("userId") == req.user.userID else { throw MatrixError.forbidden("Cannot create filters for other users") }
            let body = try req.jsonBody()
            _ = try SyncFilter(body)
            let id = try await userData.createFilter(req.user.userID, json: JSON.object(body).canonicalString)
            return .json(["filter_id": .string(String(id))])
        }
        t.get("/_matrix/client/v3/user/:userId/filter/:filterId") { [self] req in
            guard try req.param("userId") == req.user.userID else { throw MatrixError.forbidden("Cannot read filters of other users") }
            guard let id = Int64(try req.param("filterId")), let j = try await userData.filter(req.user.userID, id: id) else {
                throw MatrixError.notFound("Filter not found")
            }
            return .json(try JSON.parse(j))
        }
        return t
    }

    /// Resolves the `filter` query parameter: inline JSON or a stored filter ID.
    func syncFilter(_ param: String?, userID: String) async throws -> SyncFilter {
        guard let param, !param.isEmpty else { return SyncFilter() }
        let inline = param.hasPrefix("{")
        let key = SyncFilterCache.Key(userID: inline ? "" : userID, param: param)
        if let cached = syncFilters.lookup(key) { return cached }
        let object: [String: JSON]
        if inline {
            guard let o = (try? JSON.parse(param))?.objectValue else { throw MatrixError.badJSON("Invalid inline filter") }
            object = o
        } else {
            guard let id = Int64(param), let raw = try await userData.filter(userID, id: id), let o = try JSON.parse(raw).objectValue else {
                throw MatrixError.notFound("Filter not found")
            }
            object = o
        }
        let filter = try SyncFilter(object)
        syncFilters.store(filter, for: key)
        return filter
    }
}
