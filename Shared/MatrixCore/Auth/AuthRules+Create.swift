extension AuthRules {
    /// Rule 1: the create event stands alone; it depends on no state.
    static func checkCreate(_ event: Event, roomVersion: RoomVersion) throws(AuthError) {
        if let prev = event.json["prev_events"]?.arrayValue, !prev.isEmpty {
            throw AuthError(.invalidCreateEvent, "m.room.create must have no prev_events")
        }
        if roomVersion.roomIDFromCreateEvent {
            // The room ID is derived from this event, so it cannot be part of it.
            if event.json["room_id"] != nil {
                throw AuthError(.invalidCreateEvent, "m.room.create must not have a room_id in this room version")
            }
        } else {
            guard let roomServer = MatrixIDParts.serverName(of: event.roomID),
                  roomServer == MatrixIDParts.serverName(of: event.sender)
            else {
                throw AuthError(.invalidCreateEvent, "the room ID's server must be the sender's server")
            }
        }
        if let version = event.content["room_version"] {
            guard let id = version.stringValue, RoomVersion.named(id) != nil else {
                throw AuthError(.invalidCreateEvent, "unrecognised room_version \(version.canonicalString)")
            }
        }
        if !roomVersion.createSenderIsCreator && event.content["creator"] == nil {
            throw AuthError(.invalidCreateEvent, "m.room.create must have a creator")
        }
        if roomVersion.additionalCreators, let extra = event.content["additional_creators"] {
            guard let users = extra.arrayValue,
                  users.allSatisfy({ $0.stringValue.map(MatrixIDParts.isValidUserID) ?? false })
            else {
                throw AuthError(.invalidCreateEvent, "additional_creators must be an array of user IDs")
            }
        }
    }
}
