/// Why a push rule change was refused.
public enum PushRuleError: Error, Sendable, Hashable {
    /// A required field is absent.
    case missing(String)
    /// A field or the rule ID has a value the spec does not allow.
    case invalid(String)
    /// No rule with this kind and ID exists.
    case notFound
    /// `before` or `after` names no user-defined rule of the same kind.
    case unknownAnchor(String)
}
