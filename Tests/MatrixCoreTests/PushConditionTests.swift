import MatrixCore
import Testing

@Suite struct PushConditionTests {
    typealias F = PushFixture

    @Test func eventMatchIsCaseInsensitiveOverTheWholeValue() {
        let topic = F.event("m.room.topic", stateKey: "", content: ["topic": "Lunch plans"])
        let e = F.evaluator(topic)
        #expect(e.matches(.eventMatch(key: "content.topic", pattern: "lunc?*"), displayName: nil))
        #expect(!e.matches(.eventMatch(key: "content.topic", pattern: "lunch"), displayName: nil))
        #expect(e.matches(.eventMatch(key: "type", pattern: "M.ROOM.*"), displayName: nil))
        #expect(e.matches(.eventMatch(key: "state_key", pattern: ""), displayName: nil))
    }

    @Test func eventMatchNeedsAStringValue() {
        let e = F.evaluator(F.event(content: ["n": 5, "b": true, "o": ["x": "y"]]))
        for key in ["content.n", "content.b", "content.o", "content.absent", "state_key"] {
            #expect(!e.matches(.eventMatch(key: key, pattern: "*"), displayName: nil), "\(key)")
        }
    }

    @Test func eventMatchOnBodySearchesWords() {
        let e = F.evaluator(F.message("It's time for tea"))
        #expect(e.matches(.eventMatch(key: "content.body", pattern: "tea"), displayName: nil))
        #expect(e.matches(.eventMatch(key: "content.body", pattern: "TIME"), displayName: nil))
        #expect(!e.matches(.eventMatch(key: "content.body", pattern: "tim"), displayName: nil))
        // Other keys still need the whole value.
        let f = F.evaluator(F.event(content: ["other": "It's time for tea"]))
        #expect(!f.matches(.eventMatch(key: "content.other", pattern: "tea"), displayName: nil))
    }

    @Test func eventPropertyIsMatchesExactScalarsWithoutCasting() {
        let create = F.event("m.room.create", stateKey: "", content: ["m.federate": true, "n": 1, "s": "true", "z": nil])
        let e = F.evaluator(create)
        #expect(e.matches(.eventPropertyIs(key: #"content.m\.federate"#, value: true), displayName: nil))
        #expect(!e.matches(.eventPropertyIs(key: #"content.m\.federate"#, value: "true"), displayName: nil))
        #expect(!e.matches(.eventPropertyIs(key: #"content.m\.federate"#, value: 1), displayName: nil))
        #expect(e.matches(.eventPropertyIs(key: "content.n", value: 1), displayName: nil))
        #expect(!e.matches(.eventPropertyIs(key: "content.s", value: true), displayName: nil))
        #expect(e.matches(.eventPropertyIs(key: "content.z", value: nil), displayName: nil))
        #expect(!e.matches(.eventPropertyIs(key: "content.absent", value: nil), displayName: nil))
        // Exact: no globbing and no case folding.
        #expect(!e.matches(.eventPropertyIs(key: "type", value: "m.room.*"), displayName: nil))
        #expect(!e.matches(.eventPropertyIs(key: "type", value: "M.ROOM.CREATE"), displayName: nil))
    }

    @Test func eventPropertyContainsNeedsAnArrayWithTheExactValue() {
        let aliases = F.event("m.room.canonical_alias", stateKey: "",
                              content: ["alt_aliases": ["#somewhere:example.org", "#myroom:example.com", ["nested"]], "alias": "#x:y"])
        let e = F.evaluator(aliases)
        #expect(e.matches(.eventPropertyContains(key: "content.alt_aliases", value: "#myroom:example.com"), displayName: nil))
        #expect(!e.matches(.eventPropertyContains(key: "content.alt_aliases", value: ":example.com"), displayName: nil))
        #expect(!e.matches(.eventPropertyContains(key: "content.alias", value: "#x:y"), displayName: nil))
        #expect(!e.matches(.eventPropertyContains(key: "content.absent", value: "x"), displayName: nil))
    }

    @Test func containsDisplayNameLooksForTheNameAsAWord() {
        let e = F.evaluator(F.message("hey Bobby Tables, lunch?"))
        #expect(e.matches(.containsDisplayName, displayName: "bobby tables"))
        #expect(!e.matches(.containsDisplayName, displayName: "Bobby T"))
        #expect(!e.matches(.containsDisplayName, displayName: "Bob"))
        #expect(!e.matches(.containsDisplayName, displayName: nil))
        #expect(!e.matches(.containsDisplayName, displayName: ""))
        #expect(!F.evaluator(F.event(content: ["nobody": "Bob"])).matches(.containsDisplayName, displayName: "Bob"))
    }

    @Test func roomMemberCountComparesWithEveryOperator() {
        let e = F.evaluator(F.message("x"), members: 10)
        let cases: [(String, Bool)] = [
            ("10", true), ("==10", true), ("9", false), ("<11", true), ("<10", false), (">9", true), (">10", false),
            ("<=10", true), ("<=9", false), (">=10", true), (">=11", false), ("", false), ("abc", false), ("<", false),
            ("=10", false), ("1 0", false),
        ]
        for (comparison, expected) in cases {
            #expect(e.matches(.roomMemberCount(is: comparison), displayName: nil) == expected, "\(comparison)")
        }
    }

    @Test func senderNotificationPermissionReadsPowerLevels() {
        let fromOther = F.message("x")
        #expect(F.evaluator(fromOther).matches(.senderNotificationPermission(key: "room"), displayName: nil))
        #expect(!F.evaluator(fromOther, notificationsRoom: 51).matches(.senderNotificationPermission(key: "room"), displayName: nil))
        let fromNobody = F.event(sender: "@nobody:example.org", content: ["body": "x"])
        #expect(!F.evaluator(fromNobody).matches(.senderNotificationPermission(key: "room"), displayName: nil))
        #expect(F.evaluator(fromNobody, notificationsRoom: 0).matches(.senderNotificationPermission(key: "room"), displayName: nil))
    }

    @Test func unknownOrIncompleteConditionsNeverMatch() {
        let e = F.evaluator(F.message("x"))
        for raw: JSON in [["kind": "org.example.whatever"], ["kind": "event_match", "key": "type"],
                          ["kind": "event_property_is", "key": "type"], ["kind": "event_property_is", "key": "type", "value": ["a"]],
                          ["kind": "room_member_count"], ["kind": "sender_notification_permission"]] {
            let c = PushCondition(json: raw)
            #expect(c == .unrecognised(raw))
            #expect(!e.matches(c, displayName: nil))
        }
        // An override rule holding one never fires.
        var rules = PushRuleSet()
        rules.override = [PushRule(ruleID: "x", conditions: [PushCondition(json: ["kind": "nope"])], actions: [.notify])]
        #expect(e.evaluate(rules, displayName: nil) == .noMatch)
    }

    @Test func conditionsRoundTripThroughJSON() {
        let all: [PushCondition] = [
            .eventMatch(key: "type", pattern: "m.*"), .eventPropertyIs(key: "k", value: nil),
            .eventPropertyContains(key: "k", value: 3), .containsDisplayName, .roomMemberCount(is: "<=2"),
            .senderNotificationPermission(key: "room"),
        ]
        for c in all { #expect(PushCondition(json: c.json) == c) }
    }
}
