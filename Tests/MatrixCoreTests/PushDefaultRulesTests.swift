import MatrixCore
import Testing

@Suite struct PushDefaultRulesTests {
    typealias F = PushFixture

    func evaluate(_ event: Event, members: Int = 5, rules: PushRuleSet = F.defaults, displayName: String? = "Bob") -> PushEvaluation {
        F.evaluator(event, members: members).evaluate(rules, displayName: displayName)
    }

    @Test func theSpecRulesInTheSpecOrder() {
        let rules = F.defaults
        #expect(rules.override.map(\.ruleID) == [
            ".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event",
            ".m.rule.is_user_mention", ".m.rule.is_room_mention", ".m.rule.tombstone", ".m.rule.reaction",
            ".m.rule.room.server_acl", ".m.rule.suppress_edits",
        ])
        #expect(rules.content.isEmpty && rules.room.isEmpty && rules.sender.isEmpty)
        #expect(rules.underride.map(\.ruleID) == [
            ".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted",
        ])
        #expect(rules.ordered.allSatisfy { $0.1.isDefault })
        #expect(rules.ordered.filter { !$0.1.enabled }.map(\.1.ruleID) == [".m.rule.master"])
    }

    @Test func userSpecificRulesNameTheUser() {
        let json = F.defaults.clientJSON
        let mention = json["override"]?.arrayValue?.first { $0["rule_id"] == ".m.rule.is_user_mention" }
        #expect(mention == [
            "rule_id": ".m.rule.is_user_mention", "default": true, "enabled": true,
            "conditions": [["kind": "event_property_contains", "key": #"content.m\.mentions.user_ids"#, "value": .string(F.me)]],
            "actions": ["notify", ["set_tweak": "sound", "value": "default"], ["set_tweak": "highlight"]],
        ])
        let invite = F.defaults.rule(.override, ".m.rule.invite_for_me")
        #expect(invite?.conditions.last == .eventMatch(key: "state_key", pattern: F.me))
    }

    @Test func aUserMentionHighlights() {
        let mention = F.message("hi", extra: ["m.mentions": ["user_ids": [.string(F.me)]]])
        let result = evaluate(mention)
        #expect(result.ruleID == ".m.rule.is_user_mention")
        #expect(result.notify && result.highlight && result.sound == "default")
        let someoneElse = F.message("hi", extra: ["m.mentions": ["user_ids": ["@carol:example.org"]]])
        #expect(evaluate(someoneElse).ruleID == ".m.rule.message")
        #expect(!evaluate(someoneElse).highlight)
    }

    @Test func aRoomMentionHighlightsOnlyFromSendersWithPermission() {
        let atRoom = F.message("@room", extra: ["m.mentions": ["room": true]])
        let result = evaluate(atRoom)
        #expect(result.ruleID == ".m.rule.is_room_mention" && result.notify && result.highlight && result.sound == nil)
        let weak = F.event(sender: "@nobody:example.org", content: ["msgtype": "m.text", "body": "@room", "m.mentions": ["room": true]])
        #expect(evaluate(weak).ruleID == ".m.rule.message")
        #expect(!evaluate(weak).highlight)
    }

    @Test func aNoticeDoesNotNotify() {
        let notice = F.message("bot says hi", msgtype: "m.notice", extra: ["m.mentions": ["user_ids": [.string(F.me)]]])
        let result = evaluate(notice)
        #expect(result.ruleID == ".m.rule.suppress_notices")
        #expect(!result.notify && !result.highlight)
    }

    @Test func oneToOneMessagesNotifyWithSoundAndGroupMessagesWithout() {
        let direct = evaluate(F.message("hello"), members: 2)
        #expect(direct.ruleID == ".m.rule.room_one_to_one" && direct.notify && direct.sound == "default" && !direct.highlight)
        let group = evaluate(F.message("hello"), members: 3)
        #expect(group.ruleID == ".m.rule.message" && group.notify && group.sound == nil)
        let encrypted = F.event("m.room.encrypted", content: ["algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "x"])
        #expect(evaluate(encrypted, members: 2).ruleID == ".m.rule.encrypted_room_one_to_one")
        #expect(evaluate(encrypted, members: 2).sound == "default")
        #expect(evaluate(encrypted, members: 7).ruleID == ".m.rule.encrypted")
        #expect(evaluate(encrypted, members: 7).notify)
    }

    @Test func anEditIsSuppressed() {
        let edit = F.message("* fixed", extra: [
            "m.new_content": ["msgtype": "m.text", "body": "fixed"],
            "m.relates_to": ["rel_type": "m.replace", "event_id": "$orig"],
            "m.mentions": ["user_ids": [.string(F.me)]],
        ])
        // The mention rule comes before suppress_edits in the spec's order: an edit that newly
        // mentions someone (edits list only new mentions) still reaches them.
        #expect(evaluate(edit, members: 2).ruleID == ".m.rule.is_user_mention")
        let plainEdit = F.message("* fixed", extra: ["m.relates_to": ["rel_type": "m.replace", "event_id": "$orig"]])
        let plain = evaluate(plainEdit, members: 2)
        #expect(plain.ruleID == ".m.rule.suppress_edits")
        #expect(!plain.notify)
    }

    @Test func theMasterRuleDisablesEverything() throws {
        var user = UserPushRules(userID: F.me)
        try user.setEnabled(.override, ".m.rule.master", true)
        let rules = user.ruleSet
        for event in [F.message("hi", extra: ["m.mentions": ["user_ids": [.string(F.me)]]]), F.message("hello"),
                      F.event("m.call.invite", content: ["call_id": "1"])] {
            let result = evaluate(event, members: 2, rules: rules)
            #expect(result.ruleID == ".m.rule.master")
            #expect(!result.notify && !result.highlight)
        }
    }

    @Test func silentAndSpecialEvents() {
        #expect(evaluate(F.event("m.reaction", content: ["m.relates_to": ["rel_type": "m.annotation", "key": "👍"]])).ruleID == ".m.rule.reaction")
        #expect(!evaluate(F.event("m.room.member", stateKey: "@carol:example.org", content: ["membership": "join"])).notify)
        #expect(!evaluate(F.event("m.room.server_acl", stateKey: "", content: ["allow": ["*"]])).notify)
        let tombstone = evaluate(F.event("m.room.tombstone", stateKey: "", content: ["replacement_room": "!new:example.org"]))
        #expect(tombstone.notify && tombstone.highlight)
        // Without a state key a tombstone is not the room upgrade.
        #expect(evaluate(F.event("m.room.tombstone", content: [:])) == .noMatch)
        let call = evaluate(F.event("m.call.invite", content: ["call_id": "1"]))
        #expect(call.ruleID == ".m.rule.call" && call.notify && call.sound == "ring")
        #expect(evaluate(F.event("m.room.topic", stateKey: "", content: ["topic": "x"])) == .noMatch)
    }

    @Test func anInviteForMeNotifiesButOthersInvitesDoNot() {
        let mine = evaluate(F.event("m.room.member", stateKey: F.me, content: ["membership": "invite"]))
        #expect(mine.ruleID == ".m.rule.invite_for_me" && mine.notify && mine.sound == "default")
        let theirs = evaluate(F.event("m.room.member", stateKey: "@carol:example.org", content: ["membership": "invite"]))
        #expect(theirs.ruleID == ".m.rule.member_event" && !theirs.notify)
    }

    @Test func legacyBodyMentionsNoLongerHighlight() {
        // The spec removed the body-based mention rules: only m.mentions highlights.
        let result = evaluate(F.message("Bob: @bob:example.org look"), displayName: "Bob")
        #expect(result.ruleID == ".m.rule.message" && !result.highlight)
    }
}
