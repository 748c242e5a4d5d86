/// Whether a user may see an event, as `/messages`, `/context` and `/sync` must decide.
public enum EventVisibility {
    /// `stateBefore` is the room state at the event, before it applies: only its
    /// `m.room.history_visibility` and the user's `m.room.member` entries are read.
    /// A history visibility event is visible if the visibility before or after it allows
    /// it, and the user's own member event if their membership before or after it does.
    public static func userMaySee(
        _ event: Event, userID: String, stateBefore: StateMap, joinedAfterEvent: Bool
    ) -> Bool {
        let visibilityBefore = HistoryVisibility(state: stateBefore)
        let membershipBefore = Membership(of: userID, in: stateBefore)
        if visibilityBefore.allows(membershipAtEvent: membershipBefore, joinedAfterEvent: joinedAfterEvent) {
            return true
        }
        switch (event.type, event.stateKey) {
        case ("m.room.history_visibility", ""):
            return HistoryVisibility(content: event.content)
                .allows(membershipAtEvent: membershipBefore, joinedAfterEvent: joinedAfterEvent)
        case ("m.room.member", userID):
            let membershipAfter = Membership(event: event)
            // Rejecting an invite must reach the user, or the invite never leaves their client.
            if membershipBefore == .invite && membershipAfter == .leave { return true }
            return visibilityBefore
                .allows(membershipAtEvent: membershipAfter, joinedAfterEvent: joinedAfterEvent)
        default:
            return false
        }
    }
}

extension EventVisibility {
    /// Whether another server may see an event (backfill, `/event`, missing events):
    /// `shared` and `world_readable` history is open to any server, `invited` to servers
    /// with an invited or joined user at the event, `joined` to servers with a joined one.
    /// `stateBefore` needs only the history visibility and that server's member events.
    public static func serverMaySee(_ event: Event, server: String, stateBefore: StateMap) -> Bool {
        let memberships = stateBefore.compactMap { key, ev -> Membership? in
            guard key.type == "m.room.member", serverPart(of: key.stateKey) == server else { return nil }
            return Membership(event: ev)
        }
        switch HistoryVisibility(state: stateBefore) {
        case .worldReadable, .shared: return true
        case .invited: return memberships.contains { $0 == .join || $0 == .invite }
        case .joined: return memberships.contains(.join)
        }
    }

    /// The server name in a user ID (everything after the first colon).
    static func serverPart(of userID: String) -> String? {
        guard let colon = userID.firstIndex(of: ":") else { return nil }
        return String(userID[userID.index(after: colon)...])
    }
}
