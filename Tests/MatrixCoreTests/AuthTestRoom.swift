import MatrixCore
import Testing

// Hand-built rooms for the auth and state resolution tests: events are JSON with
// made-up IDs, no hashes, and placeholder signatures from the sender's server.

let alice = "@alice:example.org"
let bob = "@bob:example.org"
let carol = "@carol:example.org"
let dave = "@dave:example.org"
let zara = "@zara:other.org"

/// Returns the reason an auth check failed, or nil when it passed.
func denial(_ body: () throws -> Void) -> AuthError.Reason? {
    do {
        try body()
        return nil
    } catch let error as AuthError {
        return error.reason
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// One fork of a room: its events so far, its current state and its forward extremity.
/// A value type, so copying a room forks it.
struct TestRoom {
    let version: RoomVersion
    let roomID: String
    var state: StateMap = [:]
    var events: [String: Event] = [:]
    var head: [String] = []
    var clock: Int64 = 1_000

    /// Creates the room as `creator` and joins them.
    init(version: RoomVersion, creator: String = alice, createContent: [String: JSON] = [:]) {
        self.version = version
        let createID = TestRoom.eventID("create", version)
        roomID = version.roomIDFromCreateEvent ? "!" + createID.dropFirst() : "!room:example.org"
        var content = createContent
        content["room_version"] = .string(version.id)
        if version.number < 11 { content["creator"] = .string(creator) }
        let create = makeEvent("create", type: "m.room.create", stateKey: "", sender: creator,
                                content: .object(content), prev: [])
        append(create)
        append(makeEvent("join-creator", type: "m.room.member", stateKey: creator, sender: creator,
                         content: ["membership": "join"]))
    }

    /// A room with power levels `levels`, the given members joined, then `joinRule` set.
    static func standard(
        _ version: RoomVersion, levels: [String: Int64] = [alice: 100, bob: 50],
        members: [String] = [bob, carol], joinRule: String = "public", extraPowerLevels: [String: JSON] = [:]
    ) -> TestRoom {
        var room = TestRoom(version: version)
        try! room.send("pl", type: "m.room.power_levels", stateKey: "", sender: alice,
                       content: room.powerLevels(levels, extraPowerLevels))
        try! room.send("jr-public", type: "m.room.join_rules", stateKey: "", sender: alice, content: ["join_rule": "public"])
        for member in members { try! room.join(member) }
        if joinRule != "public" {
            try! room.send("jr", type: "m.room.join_rules", stateKey: "", sender: alice, content: ["join_rule": .string(joinRule)])
        }
        return room
    }

    /// A power levels content; from version 12 the creator (Alice) has infinite power
    /// and may not be listed, so her entry is dropped.
    func powerLevels(_ users: [String: Int64], _ extra: [String: JSON] = [:]) -> JSON {
        var content = extra
        let listed = version.additionalCreators ? users.filter { $0.key != alice } : users
        if !listed.isEmpty { content["users"] = .object(listed.mapValues { .int($0) }) }
        return .object(content)
    }

    static func eventID(_ name: String, _ version: RoomVersion) -> String {
        if name.hasPrefix("$") { return name }
        return version.eventIDFormat == .v1 ? "$\(name):example.org" : "$\(name)"
    }

    func id(_ name: String) -> String { TestRoom.eventID(name, version) }

    /// Builds an event on top of this fork (or on `prev`), citing the auth events its
    /// state selects. It is neither checked nor added.
    func makeEvent(
        _ name: String, type: String, stateKey: String? = nil, sender: String, content: JSON,
        prev: [String]? = nil, ts: Int64? = nil, depth: Int64? = nil, signedBy: [String] = [], extra: [String: JSON] = [:]
    ) -> Event {
        let eventID = id(name)
        let prevIDs = prev ?? head
        let keys = AuthRules.authEventKeys(type: type, stateKey: stateKey, sender: sender, content: content, roomVersion: version)
        let authIDs = keys.compactMap { state[$0]?.eventID }
        let oldFormat = version.eventIDFormat == .v1
        func refs(_ ids: [String]) -> JSON {
            .array(ids.map { oldFormat ? [.string($0), ["sha256": "aGFzaA"]] : .string($0) })
        }
        var json: [String: JSON] = [
            "type": .string(type), "sender": .string(sender), "content": content,
            "origin_server_ts": .int(ts ?? clock + 1),
            "depth": .int(depth ?? (prevIDs.compactMap { events[$0]?.depth }.max() ?? 0) + 1),
            "prev_events": refs(prevIDs), "auth_events": refs(type == "m.room.create" ? [] : authIDs),
        ]
        if !(version.roomIDFromCreateEvent && type == "m.room.create") { json["room_id"] = .string(roomID) }
        if let stateKey { json["state_key"] = .string(stateKey) }
        if oldFormat { json["event_id"] = .string(eventID) }
        var signatures: [String: JSON] = [:]
        for server in [String(sender.split(separator: ":", maxSplits: 1).last ?? "")] + signedBy {
            signatures[server] = ["ed25519:1": "c2lnbmF0dXJl"]
        }
        json["signatures"] = .object(signatures)
        for (k, v) in extra { json[k] = v }
        return Event(eventID: eventID, json: .object(json))
    }

    /// Checks an event built on this fork against its current state.
    func check(
        _ name: String = "candidate", type: String, stateKey: String? = nil, sender: String, content: JSON,
        signedBy: [String] = [], extra: [String: JSON] = [:]
    ) throws(AuthError) {
        let event = makeEvent(name, type: type, stateKey: stateKey, sender: sender, content: content,
                              signedBy: signedBy, extra: extra)
        try AuthRules.check(event: event, authEvents: AuthRules.stateForCheck(of: event, in: state, roomVersion: version),
                            roomVersion: version)
    }

    /// Checks a membership change of `target` sent by `sender` (the target by default).
    func checkMember(
        _ target: String, _ membership: String, by sender: String? = nil, content extra: [String: JSON] = [:],
        signedBy: [String] = []
    ) throws(AuthError) {
        var content = extra
        content["membership"] = .string(membership)
        try check(type: "m.room.member", stateKey: target, sender: sender ?? target, content: .object(content),
                  signedBy: signedBy)
    }

    /// Builds, checks and adds an event.
    @discardableResult
    mutating func send(
        _ name: String, type: String, stateKey: String? = nil, sender: String, content: JSON,
        ts: Int64? = nil, depth: Int64? = nil
    ) throws(AuthError) -> Event {
        let event = makeEvent(name, type: type, stateKey: stateKey, sender: sender, content: content, ts: ts, depth: depth)
        try AuthRules.check(event: event, authEvents: AuthRules.stateForCheck(of: event, in: state, roomVersion: version),
                            roomVersion: version)
        append(event)
        return event
    }

    mutating func member(_ target: String, _ membership: String, by sender: String? = nil, name: String? = nil, ts: Int64? = nil) throws(AuthError) {
        let local = target.dropFirst().split(separator: ":").first ?? ""
        try send(name ?? "\(membership)-\(local)-\(events.count)", type: "m.room.member", stateKey: target,
                 sender: sender ?? target, content: ["membership": .string(membership)], ts: ts)
    }

    mutating func join(_ user: String) throws(AuthError) { try member(user, "join") }

    mutating func append(_ event: Event) {
        events[event.eventID] = event
        if let key = event.stateTuple { state[key] = event }
        head = [event.eventID]
        clock = max(clock, event.originServerTS)
    }

    /// The resolution inputs for several forks of one room.
    static func allEvents(_ forks: TestRoom...) -> [String: Event] {
        forks.reduce(into: [:]) { all, fork in all.merge(fork.events) { a, _ in a } }
    }
}
