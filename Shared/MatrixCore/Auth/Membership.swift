/// A user's membership of a room, from `m.room.member` content.
public enum Membership: String, Sendable, Hashable, CaseIterable {
    case join, invite, leave, ban, knock

    /// The membership an `m.room.member` event sets, or nil when absent or unknown.
    public init?(event: Event) {
        guard let value = event.membership else { return nil }
        self.init(rawValue: value)
    }

    /// The user's membership in a room state; nil when they have no member event.
    public init?(of userID: String, in state: StateMap) {
        guard let event = state[.member(userID)] else { return nil }
        self.init(event: event)
    }
}
