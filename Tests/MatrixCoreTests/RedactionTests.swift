import Testing
@testable import MatrixCore

/// Redaction per room version, checked against the key lists in rooms/v1.md, v6.md, v8.md,
/// v9.md and v11.md.
@Suite struct RedactionTests {
    static func event(type: String, content: JSON, extra: [String: JSON] = [:]) -> JSON {
        var object: [String: JSON] = [
            "event_id": "$e:example.org", "type": .string(type), "room_id": "!r:example.org",
            "sender": "@u:example.org", "state_key": "", "content": content,
            "hashes": ["sha256": "abc"], "signatures": ["example.org": ["ed25519:1": "sig"]],
            "depth": 5, "prev_events": [], "prev_state": [], "auth_events": [],
            "origin": "example.org", "origin_server_ts": 1, "membership": "join",
            "unsigned": ["age": 1], "custom": "dropped",
        ]
        for (k, v) in extra { object[k] = v }
        return .object(object)
    }

    static func keys(_ json: JSON) -> Set<String> { Set(json.objectValue.map { Array($0.keys) } ?? []) }

    static let legacyTopLevel: Set<String> = [
        "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
        "depth", "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts", "membership",
    ]

    @Test(arguments: [RoomVersion.v1, .v6, .v9, .v10])
    func legacyTopLevelKeys(_ version: RoomVersion) {
        let redacted = Self.event(type: "m.room.message", content: ["body": "hi"]).redacted(for: version)
        #expect(Self.keys(redacted) == Self.legacyTopLevel)
        #expect(redacted["content"] == [:])
        #expect(redacted["unsigned"] == nil)
    }

    @Test(arguments: [RoomVersion.v11, .v12])
    func updatedTopLevelKeysDropOriginMembershipPrevState(_ version: RoomVersion) {
        let redacted = Self.event(type: "m.room.message", content: ["body": "hi"]).redacted(for: version)
        #expect(Self.keys(redacted) == Self.legacyTopLevel.subtracting(["origin", "membership", "prev_state"]))
    }

    @Test func version1KeepsAliasesAndCreator() {
        let aliases = Self.event(type: "m.room.aliases", content: ["aliases": ["#a:b"], "x": 1]).redacted(for: .v1)
        #expect(aliases["content"] == ["aliases": ["#a:b"]])
        let create = Self.event(type: "m.room.create", content: ["creator": "@u:example.org", "room_version": "1"])
            .redacted(for: .v1)
        #expect(create["content"] == ["creator": "@u:example.org"])
    }

    @Test func version6DropsAliases() {
        let aliases = Self.event(type: "m.room.aliases", content: ["aliases": ["#a:b"]]).redacted(for: .v6)
        #expect(aliases["content"] == [:])
    }

    @Test func powerLevelsKeepInviteOnlyFromVersion11() {
        let content: JSON = [
            "ban": 50, "events": ["m.room.name": 50], "events_default": 0, "invite": 0, "kick": 50,
            "redact": 50, "state_default": 50, "users": ["@u:example.org": 100], "users_default": 0,
            "notifications": ["room": 50],
        ]
        var expected = content
        expected["notifications"] = nil
        expected["invite"] = nil
        for version in [RoomVersion.v1, .v6, .v9, .v10] {
            #expect(Self.event(type: "m.room.power_levels", content: content).redacted(for: version)["content"] == expected)
        }
        expected["invite"] = 0
        #expect(Self.event(type: "m.room.power_levels", content: content).redacted(for: .v11)["content"] == expected)
    }

    @Test func joinRulesKeepAllowFromVersion8() {
        let content: JSON = ["join_rule": "restricted", "allow": [["type": "m.room_membership", "room_id": "!s:x"]], "x": 1]
        #expect(Self.event(type: "m.room.join_rules", content: content).redacted(for: .v7)["content"]
            == ["join_rule": "restricted"])
        #expect(Self.event(type: "m.room.join_rules", content: content).redacted(for: .v8)["content"]
            == ["join_rule": "restricted", "allow": [["type": "m.room_membership", "room_id": "!s:x"]]])
    }

    @Test func membersKeepJoinAuthorisedViaFromVersion9() {
        let content: JSON = ["membership": "join", "join_authorised_via_users_server": "@a:x", "displayname": "A"]
        #expect(Self.event(type: "m.room.member", content: content).redacted(for: .v8)["content"]
            == ["membership": "join"])
        #expect(Self.event(type: "m.room.member", content: content).redacted(for: .v9)["content"]
            == ["membership": "join", "join_authorised_via_users_server": "@a:x"])
    }

    @Test func version11KeepsOnlySignedOfThirdPartyInvite() {
        let content: JSON = [
            "membership": "invite",
            "third_party_invite": ["display_name": "alice", "signed": ["mxid": "@a:x", "token": "t"]],
        ]
        #expect(Self.event(type: "m.room.member", content: content).redacted(for: .v9)["content"]
            == ["membership": "invite"])
        #expect(Self.event(type: "m.room.member", content: content).redacted(for: .v11)["content"]
            == ["membership": "invite", "third_party_invite": ["signed": ["mxid": "@a:x", "token": "t"]]])
    }

    @Test func version11CreateKeepsAllContent() {
        let content: JSON = ["room_version": "11", "m.federate": false, "predecessor": ["room_id": "!o:x"]]
        #expect(Self.event(type: "m.room.create", content: content).redacted(for: .v11)["content"] == content)
        #expect(Self.event(type: "m.room.create", content: content).redacted(for: .v10)["content"] == [:])
    }

    @Test func redactsKeyInContentKeptFromVersion11() {
        let content: JSON = ["redacts": "$x", "reason": "spam"]
        #expect(Self.event(type: "m.room.redaction", content: content).redacted(for: .v11)["content"] == ["redacts": "$x"])
        #expect(Self.event(type: "m.room.redaction", content: content).redacted(for: .v6)["content"] == [:])
        // Before v11 the top-level `redacts` is not protected either.
        let topLevel = Self.event(type: "m.room.redaction", content: [:], extra: ["redacts": "$x"]).redacted(for: .v6)
        #expect(topLevel["redacts"] == nil)
    }

    @Test func historyVisibilityKeptInAllVersions() {
        for version in RoomVersion.all {
            let redacted = Self.event(type: "m.room.history_visibility",
                                      content: ["history_visibility": "shared", "x": 1]).redacted(for: version)
            #expect(redacted["content"] == ["history_visibility": "shared"])
        }
    }

    @Test func missingContentBecomesEmptyObject() {
        let redacted = JSON.object(["type": "m.room.message", "sender": "@u:x"]).redacted(for: .v11)
        #expect(redacted == ["type": "m.room.message", "sender": "@u:x", "content": [:]])
    }
}
