import Synchronization

/// A ruleset prepared for evaluating many events: its enabled rules in evaluation order, with
/// each rule's effective conditions listed once and numbered process-wide (so sharing
/// outcomes across recipients is an array read, not a hash of strings), and each rule's
/// actions encoded once.
public struct CompiledPushRules: Sendable {
    /// A class, so walking the rules per recipient retains one reference, not every field.
    public final class Rule: Sendable {
        public let kind: PushRuleKind
        public let ruleID: String
        public let actions: [PushAction]
        /// The actions as canonical JSON, as notifications store them.
        public let actionsJSON: String
        public let notify: Bool
        public let highlight: Bool
        let conditions: [KeyedCondition]

        init(kind: PushRuleKind, ruleID: String, actions: [PushAction], conditions: [KeyedCondition]) {
            self.kind = kind
            self.ruleID = ruleID
            self.actions = actions
            self.actionsJSON = actions.json.canonicalString
            self.notify = actions.notifies
            self.highlight = actions.highlights
            self.conditions = conditions
        }
    }

    public let rules: [Rule]

    public init(_ set: PushRuleSet) {
        rules = set.ordered.compactMap { kind, rule in
            guard rule.enabled else { return nil }
            return Rule(kind: kind, ruleID: rule.ruleID, actions: rule.actions,
                        conditions: rule.effectiveConditions(kind: kind).map(KeyedCondition.init))
        }
    }
}

/// A condition with its process-wide number (its memo slot) and its parameters parsed once:
/// property paths, glob patterns and member-count comparisons, which would otherwise be
/// parsed again for every recipient of every event.
struct KeyedCondition: Sendable {
    let condition: PushCondition
    let id: Int
    let isDisplayName: Bool
    let path: PropertyPath?
    let glob: GlobPattern?
    let countComparison: MemberCountComparison?

    init(_ condition: PushCondition) {
        self.condition = condition
        self.id = PushConditionNumbers.shared.number(of: condition)
        self.isDisplayName = condition == .containsDisplayName
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
}

/// Numbers for push conditions, equal conditions alike, for the life of the process. Only
/// compiling a ruleset asks; there are about as many conditions as users with own rules.
final class PushConditionNumbers: Sendable {
    static let shared = PushConditionNumbers()
    private let numbers = Mutex<[PushCondition: Int]>([:])

    func number(of condition: PushCondition) -> Int {
        numbers.withLock { table in
            if let n = table[condition] { return n }
            let n = table.count
            table[condition] = n
            return n
        }
    }
}

/// What one event's evaluation learns that holds for every recipient: the outcome of each
/// condition that does not depend on the recipient (by condition number: 0 not yet known,
/// 1 false, 2 true), and of each display name tested.
public struct PushEvaluationMemo: Sendable {
    var conditions: [UInt8] = []
    var displayNames: [String: Bool] = [:]
    public init() {}

    func known(_ id: Int) -> Bool? {
        guard id < conditions.count, conditions[id] != 0 else { return nil }
        return conditions[id] == 2
    }

    mutating func remember(_ id: Int, _ outcome: Bool) {
        if id >= conditions.count { conditions.append(contentsOf: repeatElement(0, count: id + 1 - conditions.count)) }
        conditions[id] = outcome ? 2 : 1
    }
}
