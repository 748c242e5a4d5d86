import MatrixCore
import Testing

@Suite struct PushRuleSetTests {
    typealias F = PushFixture

    func rule(_ id: String, _ body: JSON = ["actions": ["notify"]], kind: PushRuleKind = .override) throws -> PushRule {
        try PushRule(ruleID: id, kind: kind, body: body)
    }

    @Test func clientFormatRoundTrips() {
        let json = F.defaults.clientJSON
        #expect(PushRuleSet(clientJSON: json) == F.defaults)
        #expect(json["override"]?[0] == ["rule_id": ".m.rule.master", "default": true, "enabled": false, "conditions": [], "actions": []])
        #expect(json["room"] == [] && json["sender"] == [] && json["content"] == [])
    }

    @Test func kindsShowOnlyTheirOwnFields() throws {
        var user = UserPushRules(userID: F.me)
        try user.put(.room, rule(F.room, ["actions": [], "conditions": [["kind": "ignored"]]], kind: .room))
        try user.put(.content, rule("cake", ["pattern": "cake*lie", "actions": ["notify"]], kind: .content))
        let json = user.ruleSet.clientJSON
        #expect(json["room"] == [["rule_id": .string(F.room), "default": false, "enabled": true, "actions": []]])
        #expect(json["content"] == [["rule_id": "cake", "default": false, "enabled": true, "actions": ["notify"], "pattern": "cake*lie"]])
    }

    @Test func historicalActionsAreDropped() throws {
        let muted = try rule("x", ["actions": ["dont_notify", "coalesce"]])
        #expect(muted.actions.isEmpty)
        #expect(PushAction.list(["notify", "dont_notify", ["set_tweak": "highlight", "value": false]])
            == [.notify, .setTweak("highlight", value: false)])
    }

    @Test func clientBodiesAreValidated() {
        #expect(throws: PushRuleError.missing("actions")) { try rule("x", [:]) }
        #expect(throws: PushRuleError.invalid("actions must be an array")) { try rule("x", ["actions": "notify"]) }
        #expect(throws: PushRuleError.self) { try rule("x", ["actions": ["explode"]]) }
        #expect(throws: PushRuleError.self) { try rule("x", ["actions": [], "conditions": ["x"]]) }
        #expect(throws: PushRuleError.missing("pattern")) { try rule("x", ["actions": []], kind: .content) }
        var user = UserPushRules(userID: F.me)
        for bad in [".mine", "a/b", #"a\b"#, ""] {
            #expect(throws: PushRuleError.self) { try user.put(.override, rule(bad)) }
        }
    }

    @Test func newRulesGoFirstAndBeforeAfterPlaceThem() throws {
        var user = UserPushRules(userID: F.me)
        try user.put(.override, rule("a"))
        try user.put(.override, rule("b"))
        #expect(user.rules.override.map(\.ruleID) == ["b", "a"])
        try user.put(.override, rule("c"), after: "a")
        #expect(user.rules.override.map(\.ruleID) == ["b", "a", "c"])
        try user.put(.override, rule("d"), before: "a")
        #expect(user.rules.override.map(\.ruleID) == ["b", "d", "a", "c"])
        try user.put(.override, rule("e"), before: "b", after: "c")
        #expect(user.rules.override.map(\.ruleID) == ["e", "b", "d", "a", "c"])
        #expect(throws: PushRuleError.unknownAnchor("zzz")) { try user.put(.override, rule("f"), before: "zzz") }
        #expect(throws: PushRuleError.unknownAnchor(".m.rule.message")) { try user.put(.override, rule("f"), after: ".m.rule.message") }
        // The full set: master, then the user's overrides, then the other defaults.
        let ids = user.ruleSet.override.map(\.ruleID)
        #expect(Array(ids.prefix(6)) == [".m.rule.master", "e", "b", "d", "a", "c"])
        #expect(ids[6] == ".m.rule.suppress_notices")
    }

    @Test func replacingKeepsPositionAndEnabled() throws {
        var user = UserPushRules(userID: F.me)
        try user.put(.override, rule("a"))
        try user.put(.override, rule("b"))
        try user.setEnabled(.override, "a", false)
        try user.put(.override, rule("a", ["actions": [], "conditions": [["kind": "event_match", "key": "type", "pattern": "x"]]]))
        #expect(user.rules.override.map(\.ruleID) == ["b", "a"])
        #expect(user.rules.override[1].enabled == false)
        #expect(user.rules.override[1].actions.isEmpty)
        #expect(user.rules.override[1].conditions == [.eventMatch(key: "type", pattern: "x")])
    }

    @Test func defaultRulesCanBeToggledAndReactionedButNotDeleted() throws {
        var user = UserPushRules(userID: F.me)
        try user.setEnabled(.underride, ".m.rule.message", false)
        try user.setActions(.underride, ".m.rule.message", [.notify, .setTweak("sound", value: "bing")])
        let message = user.ruleSet.rule(.underride, ".m.rule.message")
        #expect(message?.enabled == false && message?.isDefault == true && message?.actions.sound == "bing")
        #expect(throws: PushRuleError.self) { try user.delete(.underride, ".m.rule.message") }
        #expect(throws: PushRuleError.notFound) { try user.setEnabled(.override, ".m.rule.message", true) }
        #expect(throws: PushRuleError.notFound) { try user.setActions(.room, "!nope:x", []) }
        #expect(throws: PushRuleError.notFound) { try user.delete(.sender, "@nobody:x") }
        try user.put(.sender, rule("@spam:x", ["actions": []], kind: .sender))
        try user.delete(.sender, "@spam:x")
        #expect(user.ruleSet.sender.isEmpty)
    }

    @Test func userRulesDecideBeforeDefaults() throws {
        var user = UserPushRules(userID: F.me)
        let message = F.message("hello")
        try user.put(.room, rule(F.room, ["actions": []], kind: .room))
        #expect(F.evaluator(message).evaluate(user.ruleSet, displayName: nil).ruleID == F.room)
        #expect(!F.evaluator(message).evaluate(user.ruleSet, displayName: nil).notify)
        try user.setEnabled(.room, F.room, false)
        #expect(F.evaluator(message).evaluate(user.ruleSet, displayName: nil).ruleID == ".m.rule.message")

        try user.put(.sender, rule(F.other, ["actions": ["notify", ["set_tweak": "highlight"]]], kind: .sender))
        #expect(F.evaluator(message).evaluate(user.ruleSet, displayName: nil).highlight)

        try user.put(.content, rule("tea", ["pattern": "tea", "actions": ["notify", ["set_tweak": "sound", "value": "kettle"]]], kind: .content))
        #expect(F.evaluator(F.message("time for TEA")).evaluate(user.ruleSet, displayName: nil).sound == "kettle")
        // Content rules outrank sender rules.
        #expect(F.evaluator(F.message("time for TEA")).evaluate(user.ruleSet, displayName: nil).ruleID == "tea")

        try user.put(.override, rule("dn", ["actions": ["notify"], "conditions": [["kind": "contains_display_name"]]]))
        #expect(F.evaluator(F.message("hey bob")).evaluate(user.ruleSet, displayName: "Bob").ruleID == "dn")
    }
}
