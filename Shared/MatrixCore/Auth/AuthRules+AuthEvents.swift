extension AuthRules {
    /// The state keys to select as `auth_events` for a new event (server-server spec,
    /// "Auth events selection"): the create event (before version 12), the power levels,
    /// the sender's membership and, for membership events, the target's membership, the
    /// join rules, the third-party invite being redeemed and the authorising user's
    /// membership for a restricted join. Keys missing from the state are simply skipped.
    public static func authEventKeys(
        type: String, stateKey: String?, sender: String, content: JSON, roomVersion: RoomVersion
    ) -> [StateKey] {
        if type == "m.room.create" { return [] }
        var keys: [StateKey] = []
        func add(_ key: StateKey) { if !keys.contains(key) { keys.append(key) } }

        if !roomVersion.roomIDFromCreateEvent { add(.create) }
        add(.powerLevels)
        add(.member(sender))
        guard type == "m.room.member", let target = stateKey else { return keys }

        add(.member(target))
        let membership = content["membership"]?.stringValue
        if membership == "join" || membership == "invite" || membership == "knock" {
            add(.joinRules)
        }
        if membership == "invite", let token = content["third_party_invite"]?["signed"]?["token"]?.stringValue {
            add(StateKey("m.room.third_party_invite", token))
        }
        if membership == "join", roomVersion.restrictedJoinRuleSupported,
           let authoriser = content["join_authorised_via_users_server"]?.stringValue
        {
            add(.member(authoriser))
        }
        return keys
    }

    /// `authEventKeys` for an existing event.
    public static func authEventKeys(for event: Event, roomVersion: RoomVersion) -> [StateKey] {
        authEventKeys(type: event.type, stateKey: event.stateKey, sender: event.sender,
                      content: event.content, roomVersion: roomVersion)
    }

    /// The part of `state` that `check` reads for `event`: its auth event keys plus,
    /// in every version, the create event.
    public static func stateForCheck(of event: Event, in state: StateMap, roomVersion: RoomVersion) -> StateMap {
        var selected: StateMap = [:]
        for key in authEventKeys(for: event, roomVersion: roomVersion) + [.create] {
            if let e = state[key] { selected[key] = e }
        }
        return selected
    }

    /// Rules about the `auth_events` list itself, for a received event whose auth events
    /// have been fetched: no duplicate keys, nothing the selection would not pick, a create
    /// event before version 12, and all from the event's room. Rejected auth events must
    /// be filtered by the caller, which knows rejection status.
    public static func checkAuthEventsSelection(
        event: Event, authEvents: [Event], roomVersion: RoomVersion
    ) throws(AuthError) {
        if event.type == "m.room.create" {
            guard authEvents.isEmpty else {
                throw AuthError(.invalidAuthEvents, "m.room.create must have no auth events")
            }
            return
        }
        let allowed = Set(authEventKeys(for: event, roomVersion: roomVersion))
        var seen: Set<StateKey> = []
        for authEvent in authEvents {
            guard let key = authEvent.stateTuple else {
                throw AuthError(.invalidAuthEvents, "auth event \(authEvent.eventID) is not a state event")
            }
            guard seen.insert(key).inserted else {
                throw AuthError(.invalidAuthEvents, "duplicate auth events for \(key)")
            }
            guard allowed.contains(key) else {
                throw AuthError(.invalidAuthEvents, "auth event \(authEvent.eventID) for \(key) is not one the selection picks")
            }
            guard authEvent.roomID == event.roomID else {
                throw AuthError(.wrongRoom, "auth event \(authEvent.eventID) is in room \(authEvent.roomID)")
            }
        }
        if !roomVersion.roomIDFromCreateEvent && !seen.contains(.create) {
            throw AuthError(.missingCreateEvent, "no m.room.create event among the auth events")
        }
    }
}
