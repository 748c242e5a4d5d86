/// The `history_visibility` of `m.room.history_visibility`.
public enum HistoryVisibility: String, Sendable, Hashable, CaseIterable {
    case worldReadable = "world_readable"
    case shared
    case invited
    case joined

    /// Reads a history visibility content; a missing or unknown value means `shared`.
    public init(content: JSON) {
        self = content["history_visibility"]?.stringValue.flatMap(HistoryVisibility.init(rawValue:)) ?? .shared
    }

    /// The visibility in a room state; `shared` when there is no event.
    public init(state: StateMap) {
        self = state[.historyVisibility].map { HistoryVisibility(content: $0.content) } ?? .shared
    }

    /// The server rule: may a user see an event sent while this visibility was in force,
    /// given their membership at that event and whether they joined at some point after it.
    /// Callers that cannot cheaply tell whether a user joined after an event and then left
    /// may pass "is currently joined", which errs on the side of hiding.
    public func allows(membershipAtEvent: Membership?, joinedAfterEvent: Bool) -> Bool {
        if self == .worldReadable { return true }
        if membershipAtEvent == .join { return true }
        if self == .shared && joinedAfterEvent { return true }
        if self == .invited && membershipAtEvent == .invite { return true }
        return false
    }
}
