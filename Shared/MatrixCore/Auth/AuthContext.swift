/// What every non-create rule reads: the create event, the power levels in force and
/// memberships, built once per check after the room-level checks pass.
struct AuthContext {
    let event: Event
    let authEvents: StateMap
    let roomVersion: RoomVersion
    let create: Event
    let powerLevels: PowerLevels

    init(event: Event, authEvents: StateMap, roomVersion: RoomVersion, powerLevels: PowerLevels? = nil) throws(AuthError) {
        guard let create = authEvents[.create] else {
            throw AuthError(.missingCreateEvent, "no m.room.create event among the auth events")
        }
        if roomVersion.roomIDFromCreateEvent {
            // The room ID is the create event's ID with `!` instead of `$`.
            guard create.eventID.hasPrefix("$"), event.roomID == "!" + create.eventID.dropFirst() else {
                throw AuthError(.missingCreateEvent, "room ID \(event.roomID) does not derive from create event \(create.eventID)")
            }
        }
        for (key, authEvent) in authEvents where !(roomVersion.roomIDFromCreateEvent && key == .create) {
            guard authEvent.roomID == event.roomID else {
                throw AuthError(.wrongRoom, "auth event \(authEvent.eventID) is in room \(authEvent.roomID)")
            }
        }
        self.event = event
        self.authEvents = authEvents
        self.roomVersion = roomVersion
        self.create = create
        self.powerLevels = powerLevels ?? PowerLevels(
            powerLevelsEvent: authEvents[.powerLevels], createEvent: create, roomVersion: roomVersion)
    }

    func membership(of userID: String) -> Membership? {
        Membership(of: userID, in: authEvents)
    }

    func level(of userID: String) -> PowerLevel {
        powerLevels.userLevel(userID)
    }

    /// The join rule in force; nil when unknown or not supported by the room version,
    /// in which case nobody may join through it.
    var joinRule: JoinRule? {
        guard let rule = JoinRule(state: authEvents), rule.isSupported(in: roomVersion) else { return nil }
        return rule
    }
}
