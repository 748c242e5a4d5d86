/// The five kinds of push rule, in the order they are checked.
public enum PushRuleKind: String, Sendable, Hashable, CaseIterable {
    case override
    case content
    case room
    case sender
    case underride

    /// Override and underride rules carry explicit conditions; the others derive theirs.
    public var hasExplicitConditions: Bool { self == .override || self == .underride }
}
