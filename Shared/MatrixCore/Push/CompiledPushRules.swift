/// A ruleset prepared for evaluating many events: its enabled rules in evaluation order, with
/// each rule's effective conditions listed once, each condition's hash worked out once (so
/// sharing outcomes across recipients costs an integer hash, not a walk over strings), and
/// each rule's actions encoded once.
public struct CompiledPushRules: Sendable {
    public struct Rule: Sendable {
        public let kind: PushRuleKind
        public let ruleID: String
        public let actions: [PushAction]
        /// The actions as canonical JSON, as `event_push_actions` stores them.
        public let actionsJSON: String
        public let notify: Bool
        public let highlight: Bool
        let conditions: [KeyedCondition]
    }

    public let rules: [Rule]

    public init(_ set: PushRuleSet) {
        rules = set.ordered.compactMap { kind, rule in
            guard rule.enabled else { return nil }
            return Rule(kind: kind, ruleID: rule.ruleID, actions: rule.actions,
                        actionsJSON: rule.actions.json.canonicalString, notify: rule.actions.notifies,
                        highlight: rule.actions.highlights,
                        conditions: rule.effectiveConditions(kind: kind).map(KeyedCondition.init))
        }
    }
}

/// A condition with its hash computed up front (a memo key that is cheap to look up) and its
/// parameters parsed once: property paths, glob patterns and member-count comparisons, which
/// would otherwise be parsed again for every recipient of every event.
struct KeyedCondition: Sendable, Hashable {
    let condition: PushCondition
    let hash: Int
    let path: PropertyPath?
    let glob: GlobPattern?
    let countComparison: MemberCountComparison?

    init(_ condition: PushCondition) {
        self.condition = condition
        self.hash = condition.hashValue
        switch condition {
        case .eventMatch(let key, let pattern):
            (path, glob, countComparison) = (PropertyPath(key), GlobPattern(pattern), nil)
        case .eventPropertyIs(let key, _), .eventPropertyContains(let key, _):
            (path, glob, countComparison) = (PropertyPath(key), nil, nil)
        case .roomMemberCount(let comparison):
            (path, glob, countComparison) = (nil, nil, MemberCountComparison(comparison))
        case .containsDisplayName, .senderNotificationPermission, .unrecognised:
            (path, glob, countComparison) = (nil, nil, nil)
        }
    }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
    static func == (a: KeyedCondition, b: KeyedCondition) -> Bool { a.hash == b.hash && a.condition == b.condition }
}

/// What one event's evaluation learns that holds for every recipient: the outcome of each
/// condition that does not depend on the recipient, and of each display name tested.
public struct PushEvaluationMemo: Sendable {
    var conditions: [KeyedCondition: Bool] = [:]
    var displayNames: [String: Bool] = [:]
    public init() {}
}
