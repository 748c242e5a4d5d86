/// The outcome of running a ruleset over an event: the first enabled matching rule's
/// actions, or nothing when no rule matches.
public struct PushEvaluation: Sendable, Hashable {
    public let kind: PushRuleKind?
    public let ruleID: String?
    public let actions: [PushAction]

    public static let noMatch = PushEvaluation(kind: nil, ruleID: nil, actions: [])

    public var notify: Bool { actions.notifies }
    public var highlight: Bool { actions.highlights }
    public var sound: String? { actions.sound }
}

/// Runs push rules over one event. Built once per event with the room facts the conditions
/// read, then asked once per recipient with that recipient's ruleset and display name.
public struct PushRuleEvaluator: Sendable {
    public let event: Event
    /// Joined members of the room, for `room_member_count`.
    public let memberCount: Int
    /// The room's power levels, for `sender_notification_permission`.
    public let powerLevels: PowerLevels
    private let body: String?

    public init(event: Event, memberCount: Int, powerLevels: PowerLevels) {
        self.event = event
        self.memberCount = memberCount
        self.powerLevels = powerLevels
        self.body = event.content["body"]?.stringValue
    }

    public func evaluate(_ rules: PushRuleSet, displayName: String?) -> PushEvaluation {
        var memo: [PushCondition: Bool] = [:]
        return evaluate(rules, displayName: displayName, memo: &memo)
    }

    /// As above, remembering in `memo` the outcome of every condition that does not depend on
    /// the recipient: across the members of a room most rules are the same, so each
    /// condition is worked out once per event rather than once per member.
    public func evaluate(_ rules: PushRuleSet, displayName: String?, memo: inout [PushCondition: Bool]) -> PushEvaluation {
        for (kind, rule) in rules.ordered where rule.enabled {
            var all = true
            for c in rule.effectiveConditions(kind: kind) {
                let ok: Bool
                if case .containsDisplayName = c {
                    ok = matches(c, displayName: displayName)
                } else if let known = memo[c] {
                    ok = known
                } else {
                    ok = matches(c, displayName: displayName)
                    memo[c] = ok
                }
                if !ok { all = false; break }
            }
            if all { return PushEvaluation(kind: kind, ruleID: rule.ruleID, actions: rule.actions) }
        }
        return .noMatch
    }

    public func matches(_ condition: PushCondition, displayName: String?) -> Bool {
        switch condition {
        case .eventMatch(let key, let pattern):
            guard let value = PropertyPath(key).value(in: event.json)?.stringValue else { return false }
            let glob = GlobPattern(pattern)
            return key == "content.body" ? glob.matchesWords(value) : glob.matches(value)
        case .eventPropertyIs(let key, let expected):
            guard let value = PropertyPath(key).value(in: event.json), value.isPushScalar else { return false }
            return value == expected
        case .eventPropertyContains(let key, let expected):
            guard let items = PropertyPath(key).value(in: event.json)?.arrayValue else { return false }
            return items.contains { $0.isPushScalar && $0 == expected }
        case .containsDisplayName:
            guard let displayName, !displayName.isEmpty, let body else { return false }
            return GlobPattern(literal: displayName).matchesWords(body)
        case .roomMemberCount(let comparison):
            return MemberCountComparison(comparison)?.holds(for: memberCount) ?? false
        case .senderNotificationPermission(let key):
            return powerLevels.user(event.sender, hasAtLeast: powerLevels.notifications[key])
        case .unrecognised:
            return false
        }
    }
}

/// The `is` parameter of `room_member_count`: an optional `==`, `<`, `>`, `<=` or `>=`
/// followed by a decimal integer.
struct MemberCountComparison: Sendable, Hashable {
    enum Operator: String, CaseIterable { case lessOrEqual = "<=", greaterOrEqual = ">=", equal = "==", less = "<", greater = ">" }
    let op: Operator
    let number: Int

    init?(_ text: String) {
        // Two-character operators are listed first so `<=` is not read as `<`.
        let op = Operator.allCases.first { text.hasPrefix($0.rawValue) } ?? .equal
        let digits = text.hasPrefix(op.rawValue) ? text.dropFirst(op.rawValue.count) : Substring(text)
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let n = Int(digits) else { return nil }
        self.op = op
        self.number = n
    }

    func holds(for count: Int) -> Bool {
        switch op {
        case .equal: count == number
        case .less: count < number
        case .greater: count > number
        case .lessOrEqual: count <= number
        case .greaterOrEqual: count >= number
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
