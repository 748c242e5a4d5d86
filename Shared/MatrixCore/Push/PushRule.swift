/// One push rule. Room and sender rules have no conditions of their own: their rule ID is the
/// room or user they apply to. Content rules match `pattern` against `content.body`.
public struct PushRule: Sendable, Hashable {
    public var ruleID: String
    public var isDefault: Bool
    public var enabled: Bool
    public var conditions: [PushCondition]
    public var pattern: String?
    public var actions: [PushAction]

    public init(ruleID: String, isDefault: Bool = false, enabled: Bool = true, conditions: [PushCondition] = [],
                pattern: String? = nil, actions: [PushAction]) {
        self.ruleID = ruleID
        self.isDefault = isDefault
        self.enabled = enabled
        self.conditions = conditions
        self.pattern = pattern
        self.actions = actions
    }

    /// The conditions this rule really tests, given its kind.
    public func effectiveConditions(kind: PushRuleKind) -> [PushCondition] {
        switch kind {
        case .override, .underride: return conditions
        // A content rule without a pattern can never match.
        case .content: return pattern.map { [.eventMatch(key: "content.body", pattern: $0)] } ?? [.unrecognised(.null)]
        case .room: return [.eventPropertyIs(key: "room_id", value: .string(ruleID))]
        case .sender: return [.eventPropertyIs(key: "sender", value: .string(ruleID))]
        }
    }

    /// The client format of the spec's `PushRule` schema.
    public func clientJSON(kind: PushRuleKind) -> JSON {
        var o: [String: JSON] = [
            "rule_id": .string(ruleID), "default": .bool(isDefault), "enabled": .bool(enabled), "actions": actions.json,
        ]
        if kind.hasExplicitConditions { o["conditions"] = .array(conditions.map(\.json)) }
        if kind == .content, let pattern { o["pattern"] = .string(pattern) }
        return .object(o)
    }

    /// Reads the client format; nil when `rule_id` is missing.
    public init?(clientJSON json: JSON, kind: PushRuleKind) {
        guard let id = json["rule_id"]?.stringValue else { return nil }
        self.init(ruleID: id, isDefault: json["default"]?.boolValue ?? false, enabled: json["enabled"]?.boolValue ?? true,
                  conditions: kind.hasExplicitConditions ? (json["conditions"]?.arrayValue ?? []).map(PushCondition.init(json:)) : [],
                  pattern: kind == .content ? json["pattern"]?.stringValue : nil,
                  actions: PushAction.list(json["actions"]))
    }
}
