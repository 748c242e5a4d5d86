/// The effective power levels of a room: an `m.room.power_levels` content read with the
/// spec's defaults for every absent field, plus (from version 12) the room creators,
/// whose power is unlimited.
public struct PowerLevels: Sendable, Hashable {
    public let users: [String: Int64]
    public let usersDefault: Int64
    public let events: [String: Int64]
    public let eventsDefault: Int64
    public let stateDefault: Int64
    public let ban: Int64
    public let kick: Int64
    public let redact: Int64
    public let invite: Int64
    public let notifications: NotificationPowerLevels
    /// Users whose power is infinite (room version 12 creators).
    public let creators: Set<String>

    /// Reads a power levels content. Values that are not valid levels in this room
    /// version (strings from version 10, floats from version 6) count as absent.
    public init(content: JSON, roomVersion: RoomVersion, creators: Set<String> = []) {
        func level(_ key: String, _ fallback: Int64) -> Int64 {
            content[key].flatMap { PowerLevelValue.parse($0, roomVersion: roomVersion) } ?? fallback
        }
        users = PowerLevelValue.parseMap(content["users"], roomVersion: roomVersion)
        usersDefault = level("users_default", 0)
        events = PowerLevelValue.parseMap(content["events"], roomVersion: roomVersion)
        eventsDefault = level("events_default", 0)
        stateDefault = level("state_default", 50)
        ban = level("ban", 50)
        kick = level("kick", 50)
        redact = level("redact", 50)
        invite = level("invite", 0)
        notifications = NotificationPowerLevels(
            levels: PowerLevelValue.parseMap(content["notifications"], roomVersion: roomVersion))
        self.creators = creators
    }

    /// The power levels in force given the room's power levels and create events.
    /// Without a power levels event every field takes its default and, before version
    /// 12, the creator has 100.
    public init(powerLevelsEvent: Event?, createEvent: Event?, roomVersion: RoomVersion) {
        let creators = RoomCreators.privileged(by: createEvent, roomVersion: roomVersion)
        if let powerLevelsEvent {
            self.init(content: powerLevelsEvent.content, roomVersion: roomVersion, creators: creators)
            return
        }
        var content: [String: JSON] = [:]
        if !roomVersion.additionalCreators, let createEvent,
           let creator = RoomCreators.originalCreator(of: createEvent, roomVersion: roomVersion)
        {
            content["users"] = .object([creator: .int(100)])
        }
        self.init(content: .object(content), roomVersion: roomVersion, creators: creators)
    }

    /// The power levels in force in a room state.
    public init(state: StateMap, roomVersion: RoomVersion) {
        self.init(powerLevelsEvent: state[.powerLevels], createEvent: state[.create], roomVersion: roomVersion)
    }

    /// A user's power: infinite for creators, else their entry in `users`, else `users_default`.
    public func userLevel(_ userID: String) -> PowerLevel {
        if creators.contains(userID) { return .infinite }
        return .finite(users[userID] ?? usersDefault)
    }

    /// The level needed to send an event of this type: `events[type]`, else
    /// `state_default` for state events and `events_default` for the rest.
    public func eventLevel(type: String, isState: Bool) -> Int64 {
        events[type] ?? (isState ? stateDefault : eventsDefault)
    }

    /// True when the user's power meets `required`.
    public func user(_ userID: String, hasAtLeast required: Int64) -> Bool {
        userLevel(userID).isAtLeast(required)
    }

    /// True when the user may send an event of this type.
    public func userCanSend(_ userID: String, type: String, isState: Bool) -> Bool {
        user(userID, hasAtLeast: eventLevel(type: type, isState: isState))
    }
}

/// The `notifications` part of power levels: the level needed to trigger each kind of
/// notification, such as `@room`.
public struct NotificationPowerLevels: Sendable, Hashable {
    public let levels: [String: Int64]

    public init(levels: [String: Int64]) { self.levels = levels }

    /// The level needed to notify the whole room with `@room`; 50 when unspecified.
    public var room: Int64 { self["room"] }

    /// Unspecified notification kinds default to 50, like `room`.
    public subscript(key: String) -> Int64 { levels[key] ?? 50 }
}
