import MatrixCore
import Testing

/// One event is evaluated for every member of a room with one memo: conditions that differ
/// between members (their own mentions, their keywords) must still be decided per member.
@Suite struct PushSharedMemoTests {
    static func compiled(_ user: String, keyword: String? = nil) -> CompiledPushRules {
        var set = DefaultPushRules.ruleSet(for: user)
        if let keyword {
            set.content.insert(PushRule(ruleID: keyword, pattern: keyword, actions: [.notify, .setTweak("highlight", value: true)]), at: 0)
        }
        return CompiledPushRules(set)
    }

    @Test func eachMemberGetsTheirOwnRuleFromOneMemo() {
        let event = PushFixture.message("Lunch at noon?", extra: ["m.mentions": ["user_ids": ["@carol:example.org"]]])
        let evaluator = PushFixture.evaluator(event)
        var memo = PushEvaluationMemo()
        let outcomes = [
            ("@bob:example.org", Self.compiled("@bob:example.org", keyword: "lunch")),
            ("@carol:example.org", Self.compiled("@carol:example.org")),
            ("@dave:example.org", Self.compiled("@dave:example.org", keyword: "dinner")),
            ("@erin:example.org", Self.compiled("@erin:example.org", keyword: "lunch")),
        ].map { user, rules in evaluator.firstMatch(rules, displayName: nil, memo: &memo)?.ruleID }
        #expect(outcomes == ["lunch", ".m.rule.is_user_mention", ".m.rule.message", "lunch"])
    }

    @Test func keywordsMatchWholeWordsOfTheBodyOnly() {
        let event = PushFixture.message("brunch, anyone?")
        var memo = PushEvaluationMemo()
        let rule = PushFixture.evaluator(event).firstMatch(Self.compiled("@bob:example.org", keyword: "lunch"),
                                                           displayName: nil, memo: &memo)
        #expect(rule?.ruleID == ".m.rule.message")
    }
}

/// Rules that read the display name are decided per member even when every other rule's
/// outcome is shared through the memo.
@Suite struct PushSharedRuleMemoTests {
    @Test func displayNameRulesAreEachMembersOwn() {
        let event = PushFixture.message("Bob, are you there?")
        let evaluator = PushFixture.evaluator(event)
        for order in [["Carol", "Bob"], ["Bob", "Carol"]] {
            var memo = PushEvaluationMemo()
            let outcomes = order.map { name in
                let user = "@\(name.lowercased()):example.org"
                var set = DefaultPushRules.ruleSet(for: user)
                set.override.append(PushRule(ruleID: "name", isDefault: false, enabled: true, conditions: [.containsDisplayName],
                                             actions: [.notify, .setTweak("highlight", value: true)]))
                return evaluator.firstMatch(CompiledPushRules(set), displayName: name, memo: &memo)?.ruleID
            }
            let expected = order.map { $0 == "Bob" ? "name" : ".m.rule.message" }
            #expect(outcomes == expected)
        }
    }
}
