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
    /// The body, lowercased once, for display-name and `content.body` matching.
    private let body: [Character]?

    public init(event: Event, memberCount: Int, powerLevels: PowerLevels) {
        self.event = event
        self.memberCount = memberCount
        self.powerLevels = powerLevels
        self.body = event.content["body"]?.stringValue.map { Array($0.lowercased()) }
    }

    public func evaluate(_ rules: PushRuleSet, displayName: String?) -> PushEvaluation {
        var memo = PushEvaluationMemo()
        guard let rule = firstMatch(CompiledPushRules(rules), displayName: displayName, memo: &memo) else { return .noMatch }
        return PushEvaluation(kind: rule.kind, ruleID: rule.ruleID, actions: rule.actions)
    }

    /// The first enabled rule that matches, remembering in `memo` the outcome of every
    /// condition and rule that does not depend on the recipient's display name: across the
    /// members of a room most rules are the same, so each is worked out once per event, not
    /// once per member.
    public func firstMatch(_ rules: CompiledPushRules, displayName: String?,
                           memo: inout PushEvaluationMemo) -> CompiledPushRules.Rule? {
        for rule in rules.rules {
            if let id = rule.sharedID, let known = memo.rules[id] {
                if known { return rule }
                continue
            }
            var all = true
            for c in rule.conditions {
                let ok: Bool
                if c.isDisplayName {
                    ok = containsDisplayName(displayName, memo: &memo)
                } else if let known = memo.conditions[c.id] {
                    ok = known
                } else {
                    ok = matches(c, displayName: displayName)
                    memo.conditions[c.id] = ok
                }
                if !ok { all = false; break }
            }
            if let id = rule.sharedID { memo.rules[id] = all }
            if all { return rule }
        }
        return nil
    }

    private func containsDisplayName(_ displayName: String?, memo: inout PushEvaluationMemo) -> Bool {
        guard let displayName else { return false }
        if let known = memo.displayNames[displayName] { return known }
        let ok = matches(.containsDisplayName, displayName: displayName)
        memo.displayNames[displayName] = ok
        return ok
    }

    public func matches(_ condition: PushCondition, displayName: String?) -> Bool {
        matches(KeyedCondition(condition), displayName: displayName)
    }

    func matches(_ c: KeyedCondition, displayName: String?) -> Bool {
        switch c.condition {
        case .eventMatch(let key, _):
            guard let glob = c.glob else { return false }
            if key == "content.body" {
                // The body is lowercased once per event, not once per recipient's rule.
                guard let body else { return false }
                return glob.matchesWords(lowercased: body)
            }
            guard let value = c.path?.value(in: event.json)?.stringValue else { return false }
            return glob.matches(value)
        case .eventPropertyIs(_, let expected):
            guard let value = c.path?.value(in: event.json), value.isPushScalar else { return false }
            return value == expected
        case .eventPropertyContains(_, let expected):
            guard let items = c.path?.value(in: event.json)?.arrayValue else { return false }
            return items.contains { $0.isPushScalar && $0 == expected }
        case .containsDisplayName:
            guard let displayName, !displayName.isEmpty, let body else { return false }
            return GlobPattern(literal: displayName).matchesWords(lowercased: body)
        case .roomMemberCount:
            return c.countComparison?.holds(for: memberCount) ?? false
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
