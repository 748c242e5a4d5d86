/// The spec's server-default rules ("Predefined Rules"), in the spec's order. Rules that
/// name the user (invites and mentions) are built for one user.
public enum DefaultPushRules {
    public static let masterRuleID = ".m.rule.master"

    public static func ruleSet(for userID: String) -> PushRuleSet {
        PushRuleSet(override: override(for: userID), content: [], room: [], sender: [], underride: underride)
    }

    private static let sound: PushAction = .setTweak("sound", value: "default")
    private static let highlight: PushAction = .setTweak("highlight", value: nil)

    private static func rule(_ id: String, enabled: Bool = true, _ conditions: [PushCondition], _ actions: [PushAction]) -> PushRule {
        PushRule(ruleID: id, isDefault: true, enabled: enabled, conditions: conditions, actions: actions)
    }

    static func override(for userID: String) -> [PushRule] {
        [
            rule(masterRuleID, enabled: false, [], []),
            rule(".m.rule.suppress_notices", [.eventMatch(key: "content.msgtype", pattern: "m.notice")], []),
            rule(".m.rule.invite_for_me", [
                .eventMatch(key: "type", pattern: "m.room.member"),
                .eventMatch(key: "content.membership", pattern: "invite"),
                .eventMatch(key: "state_key", pattern: userID),
            ], [.notify, sound]),
            rule(".m.rule.member_event", [.eventMatch(key: "type", pattern: "m.room.member")], []),
            rule(".m.rule.is_user_mention",
                 [.eventPropertyContains(key: #"content.m\.mentions.user_ids"#, value: .string(userID))],
                 [.notify, sound, highlight]),
            rule(".m.rule.is_room_mention", [
                .eventPropertyIs(key: #"content.m\.mentions.room"#, value: true),
                .senderNotificationPermission(key: "room"),
            ], [.notify, highlight]),
            rule(".m.rule.tombstone", [
                .eventMatch(key: "type", pattern: "m.room.tombstone"),
                .eventMatch(key: "state_key", pattern: ""),
            ], [.notify, highlight]),
            rule(".m.rule.reaction", [.eventMatch(key: "type", pattern: "m.reaction")], []),
            rule(".m.rule.room.server_acl", [
                .eventMatch(key: "type", pattern: "m.room.server_acl"),
                .eventMatch(key: "state_key", pattern: ""),
            ], []),
            rule(".m.rule.suppress_edits",
                 [.eventPropertyIs(key: #"content.m\.relates_to.rel_type"#, value: "m.replace")], []),
        ]
    }

    static let underride: [PushRule] = [
        rule(".m.rule.call", [.eventMatch(key: "type", pattern: "m.call.invite")],
             [.notify, .setTweak("sound", value: "ring")]),
        rule(".m.rule.encrypted_room_one_to_one",
             [.roomMemberCount(is: "2"), .eventMatch(key: "type", pattern: "m.room.encrypted")], [.notify, sound]),
        rule(".m.rule.room_one_to_one",
             [.roomMemberCount(is: "2"), .eventMatch(key: "type", pattern: "m.room.message")], [.notify, sound]),
        rule(".m.rule.message", [.eventMatch(key: "type", pattern: "m.room.message")], [.notify]),
        rule(".m.rule.encrypted", [.eventMatch(key: "type", pattern: "m.room.encrypted")], [.notify]),
    ]
}
