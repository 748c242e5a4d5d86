/// The authorisation rules of room versions 1–12 (the `rooms/vN` pages of the spec).
public enum AuthRules {
    /// Checks `event` against `authEvents`, the state it is authorised by: the events its
    /// `auth_events` name when it is received, or the current state when it is sent or
    /// soft-fail checked. Only the entries the rules need are read, so passing a whole
    /// state is fine.
    ///
    /// From room version 12 the create event is not among `auth_events`, but the rules
    /// still need it: include it under `(m.room.create, "")`; the room ID must derive from it.
    ///
    /// Signatures are checked on receipt, not here; the exceptions are the third-party
    /// invite `signed` block, verified here, and the presence of the authorising server's
    /// signature on a restricted join.
    /// `powerLevels`: those of `authEvents` parsed already (the caller vouches for it).
    public static func check(event: Event, authEvents: StateMap, roomVersion: RoomVersion,
                             powerLevels: PowerLevels? = nil) throws(AuthError) {
        if event.type == "m.room.create" {
            try checkCreate(event, roomVersion: roomVersion)
            return
        }
        let context = try AuthContext(event: event, authEvents: authEvents, roomVersion: roomVersion, powerLevels: powerLevels)
        try checkFederation(event, create: context.create)

        if roomVersion.specialCaseAliasesAuth && event.type == "m.room.aliases" {
            try checkAliases(event)
            return
        }
        if event.type == "m.room.member" {
            try checkMember(context)
            return
        }
        guard context.membership(of: event.sender) == .join else {
            throw AuthError(.senderNotJoined, "\(event.sender) is not joined to the room")
        }
        if event.type == "m.room.third_party_invite" {
            guard context.level(of: event.sender).isAtLeast(context.powerLevels.invite) else {
                throw AuthError(.insufficientPowerLevel, "\(event.sender) may not invite")
            }
            return
        }
        let required = context.powerLevels.eventLevel(type: event.type, isState: event.isState)
        guard context.level(of: event.sender).isAtLeast(required) else {
            throw AuthError(.insufficientPowerLevel,
                            "\(event.type) needs power level \(required), \(event.sender) has \(context.level(of: event.sender))")
        }
        if let stateKey = event.stateKey, stateKey.hasPrefix("@"), stateKey != event.sender {
            throw AuthError(.stateKeyNotSender, "state key \(stateKey) belongs to another user")
        }
        if event.type == "m.room.power_levels" {
            try checkPowerLevels(context)
        }
        if roomVersion.redactionsInAuthRules && event.type == "m.room.redaction" {
            try checkRedaction(context)
        }
    }

    /// Rule 3 (v12) / 2 (v1–v11): `m.federate: false` keeps other servers out.
    static func checkFederation(_ event: Event, create: Event) throws(AuthError) {
        guard create.content["m.federate"]?.boolValue == false else { return }
        if MatrixIDParts.serverName(of: event.sender) != MatrixIDParts.serverName(of: create.sender) {
            throw AuthError(.federationForbidden, "the room does not federate with \(event.sender)'s server")
        }
    }

    /// Versions 1–5: anyone may set the aliases of their own server.
    static func checkAliases(_ event: Event) throws(AuthError) {
        guard let stateKey = event.stateKey, !stateKey.isEmpty else {
            throw AuthError(.invalidAliases, "m.room.aliases needs a server name as state key")
        }
        guard MatrixIDParts.serverName(of: event.sender) == stateKey else {
            throw AuthError(.invalidAliases, "m.room.aliases state key must be the sender's server")
        }
    }

    /// Versions 1–2: the redact level, or a redaction from the original event's server.
    static func checkRedaction(_ context: AuthContext) throws(AuthError) {
        let event = context.event
        if context.level(of: event.sender).isAtLeast(context.powerLevels.redact) { return }
        if let redacts = event.redacts,
           let target = MatrixIDParts.serverName(of: redacts),
           target == MatrixIDParts.serverName(of: event.eventID)
        {
            return
        }
        throw AuthError(.redactionNotAllowed, "\(event.sender) may not redact events from another server")
    }
}
