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
