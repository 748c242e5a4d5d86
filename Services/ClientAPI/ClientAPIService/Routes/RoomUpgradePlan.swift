import MatrixCore
import RoomServer

/// What a room upgrade puts into the replacement room, worked out from the old room's
/// state: the create event's content and the state sent with it, in an order the auth
/// rules accept (the upgrader joins, gets enough power, sets the copied state, and then
/// the old power levels are restored).
struct RoomUpgradePlan: Sendable {
    let createContent: JSON
    let initialEvents: [EventRequest]

    /// Single state events carried over, as the spec recommends (plus the canonical alias,
    /// whose local aliases move with the room).
    static let copiedTypes = [
        "m.room.join_rules", "m.room.history_visibility", "m.room.guest_access", "m.room.name", "m.room.topic",
        "m.room.avatar", "m.room.encryption", "m.room.server_acl", "m.room.canonical_alias",
    ]

    init(old: RoomState, upgrader: String, newVersion: RoomVersion, additionalCreators: [String],
         predecessorEventID: String?, memberContent: JSON) {
        let oldCreate = old.state[.create]
        var create: [String: JSON] = ["room_version": .string(newVersion.id)]
        var predecessor: [String: JSON] = ["room_id": .string(old.roomID)]
        if let predecessorEventID { predecessor["event_id"] = .string(predecessorEventID) }
        create["predecessor"] = .object(predecessor)
        let roomType = oldCreate?.content["type"]?.stringValue
        if let roomType { create["type"] = .string(roomType) }
        if oldCreate?.content["m.federate"] == .bool(false) { create["m.federate"] = false }
        if !newVersion.updatedRedactionRules { create["creator"] = .string(upgrader) }
        let extraCreators = newVersion.additionalCreators ? additionalCreators.filter { $0 != upgrader } : []
        if !extraCreators.isEmpty { create["additional_creators"] = JSON(extraCreators) }
        createContent = .object(create)

        func state(_ type: String, _ key: String = "", _ content: JSON) -> EventRequest {
            EventRequest(sender: upgrader, type: type, stateKey: key, content: content)
        }
        let pl = old.powerLevels
        var users = pl.users
        // Creators of a version 12 room had unlimited power; where they are not creators of
        // the new room they keep the highest ordinary level instead.
        let newCreators: Set<String> = newVersion.additionalCreators ? Set([upgrader] + extraCreators) : []
        for c in pl.creators where !newCreators.contains(c) { users[c] = max(users[c] ?? pl.usersDefault, 100) }
        // From version 12, creators must not appear in the users map.
        for c in newCreators { users[c] = nil }
        let finalPL = Self.powerLevelsContent(pl, users: users)

        var events: [EventRequest] = [state("m.room.member", upgrader, memberContent)]
        // Outside version 12 the upgrader needs enough power to send everything below; they
        // get it for the initial state only, as other servers do.
        let upgraderLevel: PowerLevel = newCreators.contains(upgrader) ? .infinite : .finite(users[upgrader] ?? pl.usersDefault)
        let needed = ([pl.stateDefault, pl.ban, pl.eventsDefault] + Array(pl.events.values)).max() ?? 100
        let elevated = !upgraderLevel.isAtLeast(needed)
        if elevated {
            var raised = users
            raised[upgrader] = needed
            events.append(state("m.room.power_levels", "", Self.powerLevelsContent(pl, users: raised)))
        } else {
            events.append(state("m.room.power_levels", "", finalPL))
        }
        let effectiveLevel: PowerLevel = elevated ? .finite(needed) : upgraderLevel

        for type in Self.copiedTypes {
            guard let ev = old.state[StateKey(type, "")], var content = ev.content.objectValue, !content.isEmpty else { continue }
            if type == "m.room.join_rules", let rule = content["join_rule"]?.stringValue, !Self.supports(newVersion, joinRule: rule) {
                content["join_rule"] = "invite"
                content["allow"] = nil
            }
            events.append(state(type, "", .object(content)))
        }
        // A space keeps its children.
        if roomType == "m.space" {
            for (key, ev) in old.state.sorted(by: { $0.key < $1.key })
            where key.type == "m.space.child" && !(ev.content.objectValue ?? [:]).isEmpty {
                events.append(state(key.type, key.stateKey, ev.content))
            }
        }
        // Bans carry over, for users the upgrader outranks.
        for (key, ev) in old.state.sorted(by: { $0.key < $1.key }) where key.type == "m.room.member" && ev.membership == "ban" {
            let target = key.stateKey
            guard !newCreators.contains(target), effectiveLevel > .finite(users[target] ?? pl.usersDefault) else { continue }
            var ban: [String: JSON] = ["membership": "ban"]
            if let reason = ev.content["reason"]?.stringValue { ban["reason"] = .string(reason) }
            events.append(state("m.room.member", target, .object(ban)))
        }
        if elevated { events.append(state("m.room.power_levels", "", finalPL)) }
        initialEvents = events
    }

    /// Power levels written out in full with integer values, valid in every room version.
    static func powerLevelsContent(_ pl: PowerLevels, users: [String: Int64]) -> JSON {
        [
            "users": .object(users.mapValues { .int($0) }),
            "users_default": .int(pl.usersDefault),
            "events": .object(pl.events.mapValues { .int($0) }),
            "events_default": .int(pl.eventsDefault),
            "state_default": .int(pl.stateDefault),
            "ban": .int(pl.ban), "kick": .int(pl.kick), "redact": .int(pl.redact), "invite": .int(pl.invite),
            "notifications": .object(pl.notifications.levels.mapValues { .int($0) }),
        ]
    }

    /// Join rules a version does not know would leave the room unjoinable; they become invite.
    static func supports(_ v: RoomVersion, joinRule: String) -> Bool {
        switch joinRule {
        case "knock": return v.knockingSupported
        case "restricted": return v.restrictedJoinRuleSupported
        case "knock_restricted": return v.knockRestrictedJoinRuleSupported
        default: return true
        }
    }
}
