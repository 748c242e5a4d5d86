/// Who created a room, as the auth rules and power levels see it.
public enum RoomCreators {
    /// The creator who gets power level 100 when the room has no power levels event
    /// (versions 1–11): `content.creator` before version 11, the create event's sender since.
    public static func originalCreator(of create: Event, roomVersion: RoomVersion) -> String? {
        if roomVersion.createSenderIsCreator { return create.sender }
        return create.content["creator"]?.stringValue
    }

    /// The users with unlimited power: from version 12, the create event's sender plus
    /// `additional_creators`; earlier versions have none.
    public static func privileged(by create: Event?, roomVersion: RoomVersion) -> Set<String> {
        guard roomVersion.additionalCreators, let create else { return [] }
        var users: Set<String> = [create.sender]
        for value in create.content["additional_creators"]?.arrayValue ?? [] {
            if let user = value.stringValue { users.insert(user) }
        }
        return users
    }
}
