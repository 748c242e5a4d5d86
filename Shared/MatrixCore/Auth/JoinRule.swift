/// The `join_rule` of `m.room.join_rules`.
public enum JoinRule: String, Sendable, Hashable, CaseIterable {
    case `public`
    case invite
    case knock
    case restricted
    case knockRestricted = "knock_restricted"
    case `private`

    /// Reads a join rules content. A content without `join_rule` means `invite`, as the
    /// auth rules treat it; an unknown value gives nil.
    public init?(content: JSON) {
        guard let value = content["join_rule"] else {
            self = .invite
            return
        }
        guard let string = value.stringValue else { return nil }
        self.init(rawValue: string)
    }

    /// The rule in force in a room state: `invite` when there is no join rules event,
    /// nil when the event holds a value this server does not know.
    public init?(state: StateMap) {
        guard let event = state[.joinRules] else {
            self = .invite
            return
        }
        self.init(content: event.content)
    }

    /// Whether the room version gives this rule a meaning; a rule the version does not
    /// support behaves like an unknown one (nobody may join through it).
    public func isSupported(in roomVersion: RoomVersion) -> Bool {
        switch self {
        case .public, .invite, .private: return true
        case .knock: return roomVersion.knockingSupported
        case .restricted: return roomVersion.restrictedJoinRuleSupported
        case .knockRestricted: return roomVersion.knockRestrictedJoinRuleSupported
        }
    }

    /// Whether users may knock under this rule.
    public var allowsKnocking: Bool { self == .knock || self == .knockRestricted }

    /// Whether joins may be authorised by a resident server through the `allow` list.
    public var allowsRestrictedJoins: Bool { self == .restricted || self == .knockRestricted }

    /// The room IDs whose members may join a restricted room (`allow` entries of type
    /// `m.room_membership`). Malformed entries are ignored.
    public static func allowedRoomIDs(content: JSON) -> [String] {
        (content["allow"]?.arrayValue ?? []).compactMap { condition in
            guard condition["type"]?.stringValue == "m.room_membership" else { return nil }
            return condition["room_id"]?.stringValue
        }
    }
}
