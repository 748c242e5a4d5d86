/// A user's complete ruleset: the rules of each kind, most important first, as clients see
/// it and as the evaluator walks it.
public struct PushRuleSet: Sendable, Hashable {
    public var override: [PushRule]
    public var content: [PushRule]
    public var room: [PushRule]
    public var sender: [PushRule]
    public var underride: [PushRule]

    public init(override: [PushRule] = [], content: [PushRule] = [], room: [PushRule] = [],
                sender: [PushRule] = [], underride: [PushRule] = []) {
        self.override = override
        self.content = content
        self.room = room
        self.sender = sender
        self.underride = underride
    }

    public subscript(kind: PushRuleKind) -> [PushRule] {
        get {
            switch kind {
            case .override: override
            case .content: content
            case .room: room
            case .sender: sender
            case .underride: underride
            }
        }
        set {
            switch kind {
            case .override: override = newValue
            case .content: content = newValue
            case .room: room = newValue
            case .sender: sender = newValue
            case .underride: underride = newValue
            }
        }
    }

    public func rule(_ kind: PushRuleKind, _ ruleID: String) -> PushRule? {
        self[kind].first { $0.ruleID == ruleID }
    }

    /// Every rule in evaluation order.
    public var ordered: [(PushRuleKind, PushRule)] {
        PushRuleKind.allCases.flatMap { kind in self[kind].map { (kind, $0) } }
    }

    /// The spec's `PushRuleset` object: `{"override": [...], "content": [...], ...}`.
    public var clientJSON: JSON {
        var o: [String: JSON] = [:]
        for kind in PushRuleKind.allCases { o[kind.rawValue] = .array(self[kind].map { $0.clientJSON(kind: kind) }) }
        return .object(o)
    }

    /// Reads a `PushRuleset` object; rules without a `rule_id` are skipped.
    public init(clientJSON json: JSON) {
        self.init()
        for kind in PushRuleKind.allCases {
            self[kind] = (json[kind.rawValue]?.arrayValue ?? []).compactMap { PushRule(clientJSON: $0, kind: kind) }
        }
    }

    /// The content of the `m.push_rules` account data event.
    public var accountDataContent: JSON { ["global": clientJSON] }
}
