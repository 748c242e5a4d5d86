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
        /// Rules with the same conditions share a number (a memo slot for whether they match);
        /// nil when one of them reads the recipient's display name.
        let sharedID: Int?

        init(kind: PushRuleKind, ruleID: String, actions: [PushAction], conditions: [KeyedCondition]) {
            self.kind = kind
            self.ruleID = ruleID
            self.actions = actions
            self.actionsJSON = actions.json.canonicalString
            self.notify = actions.notifies
            self.highlight = actions.highlights
            self.conditions = conditions
            self.sharedID = conditions.contains(where: \.isDisplayName)
                ? nil : PushConditionNumbers.shared.number(ofRule: conditions.map(\.id))
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

/// Numbers for push conditions and for rules' lists of condition numbers, equal keys alike,
/// for the life of the process. Only compiling a ruleset asks; there are about as many
/// conditions as users with own rules.
final class PushConditionNumbers: Sendable {
    static let shared = PushConditionNumbers()
    private let conditions = Numbering<PushCondition>()
    private let rules = Numbering<[Int]>()

    func number(of condition: PushCondition) -> Int { conditions.number(of: condition) }
    func number(ofRule conditionNumbers: [Int]) -> Int { rules.number(of: conditionNumbers) }

    /// Numbers from 0, handed out in order of first asking.
    private final class Numbering<Key: Hashable & Sendable>: Sendable {
        private let table = Mutex<[Key: Int]>([:])

        func number(of key: Key) -> Int {
            table.withLock { table in
                if let n = table[key] { return n }
                table[key] = table.count
                return table.count - 1
            }
        }
    }
}

/// What one event's evaluation learns that holds for every recipient: whether each condition
/// and each rule not reading the display name holds (by number), and each display name tested.
public struct PushEvaluationMemo: Sendable {
    var conditions = Outcomes()
    var rules = Outcomes()
    var displayNames: [String: Bool] = [:]
    public init() {}

    /// Outcomes by number: 0 not yet known, 1 false, 2 true.
    struct Outcomes: Sendable {
        private var slots: [UInt8] = []

        subscript(_ id: Int) -> Bool? {
            get { id < slots.count && slots[id] != 0 ? slots[id] == 2 : nil }
            set {
                if id >= slots.count { slots.append(contentsOf: repeatElement(0, count: id + 1 - slots.count)) }
                slots[id] = newValue.map { $0 ? 2 : 1 } ?? 0
            }
        }
    }
}
