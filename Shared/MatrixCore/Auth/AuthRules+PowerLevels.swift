extension AuthRules {
    static let powerLevelFields = ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"]

    /// Rule 10 (v1–v5, v12) / 9 (v6–v11): a new `m.room.power_levels` must be well formed
    /// and may only change levels up to the sender's own power.
    static func checkPowerLevels(_ context: AuthContext) throws(AuthError) {
        let version = context.roomVersion
        let new = context.event.content
        try validatePowerLevelsContent(new, roomVersion: version)

        if version.additionalCreators {
            let creators = RoomCreators.privileged(by: context.create, roomVersion: version)
            if let listed = new["users"]?.objectValue?.keys.first(where: creators.contains) {
                throw AuthError(.creatorInPowerLevels, "room creator \(listed) cannot be given a power level")
            }
        }
        guard let old = context.authEvents[.powerLevels]?.content else { return }

        let sender = context.event.sender
        let senderLevel = context.level(of: sender)
        func exceeds(_ level: Int64?) -> Bool { level.map { PowerLevel.finite($0) > senderLevel } ?? false }
        func value(_ content: JSON, _ key: String) -> Int64? {
            content[key].flatMap { PowerLevelValue.parse($0, roomVersion: version) }
        }

        for field in powerLevelFields {
            let before = value(old, field), after = value(new, field)
            guard before != after else { continue }
            if exceeds(before) || exceeds(after) {
                throw AuthError(.powerLevelChangeNotAllowed, "\(sender) may not change \(field) beyond their own level")
            }
        }

        var maps = ["events"]
        if version.notificationsPowerLevelsAuthorised { maps.append("notifications") }
        for map in maps {
            for (key, before, after) in changes(in: map, old: old, new: new, roomVersion: version) {
                if exceeds(before) || exceeds(after) {
                    throw AuthError(.powerLevelChangeNotAllowed, "\(sender) may not change \(map).\(key) beyond their own level")
                }
            }
        }

        for (user, before, after) in changes(in: "users", old: old, new: new, roomVersion: version) {
            // Anyone may lower themselves; other entries at or above the sender are untouchable.
            if user != sender, let before, PowerLevel.finite(before) >= senderLevel {
                throw AuthError(.powerLevelChangeNotAllowed, "\(sender) may not change the level of \(user)")
            }
            if exceeds(after) {
                throw AuthError(.powerLevelChangeNotAllowed, "\(sender) may not raise \(user) above their own level")
            }
        }
    }

    /// Entries added, changed or removed in one of the `users`/`events`/`notifications` maps.
    static func changes(in map: String, old: JSON, new: JSON, roomVersion: RoomVersion)
        -> [(key: String, before: Int64?, after: Int64?)]
    {
        let before = PowerLevelValue.parseMap(old[map], roomVersion: roomVersion)
        let after = PowerLevelValue.parseMap(new[map], roomVersion: roomVersion)
        return Set(before.keys).union(after.keys).sorted().compactMap { key in
            before[key] == after[key] ? nil : (key, before[key], after[key])
        }
    }

    /// The shape checks: from version 10 every level must be an integer; in every version
    /// `users` maps valid user IDs to valid levels.
    static func validatePowerLevelsContent(_ content: JSON, roomVersion: RoomVersion) throws(AuthError) {
        if roomVersion.integerPowerLevels {
            for field in powerLevelFields {
                if let v = content[field], v.intOnly == nil {
                    throw AuthError(.invalidPowerLevels, "\(field) must be an integer")
                }
            }
            for map in ["events", "notifications"] {
                guard let v = content[map] else { continue }
                guard let object = v.objectValue, object.values.allSatisfy({ $0.intOnly != nil }) else {
                    throw AuthError(.invalidPowerLevels, "\(map) must be an object of integers")
                }
            }
        }
        guard let users = content["users"] else { return }
        guard let object = users.objectValue else {
            throw AuthError(.invalidPowerLevels, "users must be an object")
        }
        for (user, level) in object {
            guard MatrixIDParts.isValidUserID(user) else {
                throw AuthError(.invalidPowerLevels, "\(user) in users is not a user ID")
            }
            guard PowerLevelValue.parse(level, roomVersion: roomVersion) != nil else {
                throw AuthError(.invalidPowerLevels, "the level of \(user) is not an integer")
            }
        }
    }
}

private extension JSON {
    /// An integer written as one: no strings, no floats.
    var intOnly: Int64? { if case .int(let i) = self { return i }; return nil }
}
