/// What one user changed relative to the server defaults: their own rules (most important
/// first within each kind) and the enabled flag or actions of server-default rules. Storage
/// keeps this; `ruleSet` merges it with the defaults. The edits follow the push rules API.
public struct UserPushRules: Sendable, Hashable {
    public struct RuleKey: Sendable, Hashable {
        public let kind: PushRuleKind
        public let ruleID: String
        public init(_ kind: PushRuleKind, _ ruleID: String) {
            self.kind = kind
            self.ruleID = ruleID
        }
    }

    /// A change to a server-default rule; nil fields keep the default.
    public struct DefaultRuleChange: Sendable, Hashable {
        public var enabled: Bool?
        public var actions: [PushAction]?
        public init(enabled: Bool? = nil, actions: [PushAction]? = nil) {
            self.enabled = enabled
            self.actions = actions
        }
    }

    public let userID: String
    /// User-defined rules only.
    public var rules: PushRuleSet
    public var defaultChanges: [RuleKey: DefaultRuleChange]

    public init(userID: String, rules: PushRuleSet = PushRuleSet(), defaultChanges: [RuleKey: DefaultRuleChange] = [:]) {
        self.userID = userID
        self.rules = rules
        self.defaultChanges = defaultChanges
    }

    /// The full ruleset: `.m.rule.master` first, then per kind the user's rules ahead of
    /// the server defaults.
    public var ruleSet: PushRuleSet {
        var defaults = DefaultPushRules.ruleSet(for: userID)
        for kind in PushRuleKind.allCases {
            defaults[kind] = defaults[kind].map { rule in
                guard let change = defaultChanges[RuleKey(kind, rule.ruleID)] else { return rule }
                var r = rule
                if let enabled = change.enabled { r.enabled = enabled }
                if let actions = change.actions { r.actions = actions }
                return r
            }
        }
        var out = PushRuleSet()
        for kind in PushRuleKind.allCases {
            if kind == .override {
                let master = defaults.override.filter { $0.ruleID == DefaultPushRules.masterRuleID }
                let others = defaults.override.filter { $0.ruleID != DefaultPushRules.masterRuleID }
                out.override = master + rules.override + others
            } else {
                out[kind] = rules[kind] + defaults[kind]
            }
        }
        return out
    }

    // MARK: edits

    /// Adds or replaces a user-defined rule. A new rule is enabled and goes first among the
    /// user's rules of its kind unless `before` or `after` (user rule IDs) place it; `before`
    /// wins when both are given. A replaced rule keeps its enabled flag and, unless placed,
    /// its position.
    public mutating func put(_ kind: PushRuleKind, _ rule: PushRule, before: String? = nil, after: String? = nil) throws(PushRuleError) {
        try Self.validateNewRuleID(rule.ruleID)
        var list = rules[kind]
        var rule = rule
        rule.isDefault = false
        let oldIndex = list.firstIndex { $0.ruleID == rule.ruleID }
        if let oldIndex {
            rule.enabled = list[oldIndex].enabled
            list.remove(at: oldIndex)
        } else {
            rule.enabled = true
        }
        let index: Int
        if let anchor = before ?? after {
            guard let a = list.firstIndex(where: { $0.ruleID == anchor }) else { throw .unknownAnchor(anchor) }
            index = before != nil ? a : a + 1
        } else {
            index = oldIndex ?? 0
        }
        list.insert(rule, at: index)
        rules[kind] = list
    }

    /// Removes a user-defined rule. Server-default rules cannot be removed.
    public mutating func delete(_ kind: PushRuleKind, _ ruleID: String) throws(PushRuleError) {
        if let i = rules[kind].firstIndex(where: { $0.ruleID == ruleID }) {
            rules[kind].remove(at: i)
            return
        }
        if isDefaultRule(kind, ruleID) { throw .invalid("server-default rules cannot be deleted") }
        throw .notFound
    }

    public mutating func setEnabled(_ kind: PushRuleKind, _ ruleID: String, _ enabled: Bool) throws(PushRuleError) {
        if let i = rules[kind].firstIndex(where: { $0.ruleID == ruleID }) {
            rules[kind][i].enabled = enabled
        } else if isDefaultRule(kind, ruleID) {
            defaultChanges[RuleKey(kind, ruleID), default: DefaultRuleChange()].enabled = enabled
        } else {
            throw .notFound
        }
    }

    public mutating func setActions(_ kind: PushRuleKind, _ ruleID: String, _ actions: [PushAction]) throws(PushRuleError) {
        if let i = rules[kind].firstIndex(where: { $0.ruleID == ruleID }) {
            rules[kind][i].actions = actions
        } else if isDefaultRule(kind, ruleID) {
            defaultChanges[RuleKey(kind, ruleID), default: DefaultRuleChange()].actions = actions
        } else {
            throw .notFound
        }
    }

    private func isDefaultRule(_ kind: PushRuleKind, _ ruleID: String) -> Bool {
        DefaultPushRules.ruleSet(for: userID).rule(kind, ruleID) != nil
    }

    /// IDs starting with a dot are reserved for server defaults; slashes and backslashes are
    /// not allowed.
    static func validateNewRuleID(_ id: String) throws(PushRuleError) {
        if id.isEmpty { throw .invalid("rule_id must not be empty") }
        if id.hasPrefix(".") { throw .invalid("rule IDs starting with '.' are reserved for server-default rules") }
        if id.contains("/") || id.contains("\\") { throw .invalid("rule IDs may not contain slashes or backslashes") }
    }
}

extension PushRule {
    /// Builds a user rule from a `PUT /pushrules/global/{kind}/{ruleId}` body.
    public init(ruleID: String, kind: PushRuleKind, body: JSON) throws(PushRuleError) {
        let actions = try PushAction.validatedList(body["actions"])
        var conditions: [PushCondition] = []
        var pattern: String?
        switch kind {
        case .override, .underride:
            conditions = try PushCondition.validatedList(body["conditions"])
        case .content:
            guard let p = body["pattern"], !p.isNull else { throw .missing("pattern") }
            guard let s = p.stringValue else { throw .invalid("pattern must be a string") }
            pattern = s
        case .room, .sender:
            break
        }
        self.init(ruleID: ruleID, isDefault: false, enabled: true, conditions: conditions, pattern: pattern, actions: actions)
    }
}
