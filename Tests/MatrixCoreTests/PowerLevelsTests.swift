import MatrixCore
import Testing

@Suite struct PowerLevelsParsingTests {
    @Test func defaultsWithoutAPowerLevelsEvent() {
        let room = TestRoom(version: .v11)
        let levels = PowerLevels(state: room.state, roomVersion: .v11)
        #expect(levels.userLevel(alice) == 100)
        #expect(levels.userLevel(bob) == 0)
        #expect(levels.stateDefault == 50)
        #expect(levels.eventsDefault == 0)
        #expect(levels.ban == 50 && levels.kick == 50 && levels.redact == 50)
        #expect(levels.invite == 0)
        #expect(levels.notifications.room == 50)
        #expect(levels.eventLevel(type: "m.room.topic", isState: true) == 50)
        #expect(levels.eventLevel(type: "m.room.message", isState: false) == 0)
    }

    @Test func creatorComesFromContentBeforeVersion11() {
        var create = TestRoom(version: .v10).state[.create]!.json
        create["content"] = ["creator": .string(carol)]
        let event = Event(eventID: "$c:example.org", json: create)
        let levels = PowerLevels(powerLevelsEvent: nil, createEvent: event, roomVersion: .v10)
        #expect(levels.userLevel(carol) == 100)
        #expect(levels.userLevel(alice) == 0)
    }

    @Test func explicitValuesOverrideDefaults() {
        let content: JSON = [
            "users": [bob: 75], "users_default": 10, "events": ["m.room.topic": 20, "m.room.message": 5],
            "events_default": 1, "state_default": 60, "ban": 70, "kick": 65, "redact": 40, "invite": 30,
            "notifications": ["room": 80],
        ]
        let levels = PowerLevels(content: content, roomVersion: .v11)
        #expect(levels.userLevel(bob) == 75)
        #expect(levels.userLevel(carol) == 10)
        #expect(levels.eventLevel(type: "m.room.topic", isState: true) == 20)
        #expect(levels.eventLevel(type: "m.room.message", isState: false) == 5)
        #expect(levels.eventLevel(type: "m.room.name", isState: true) == 60)
        #expect(levels.eventLevel(type: "m.reaction", isState: false) == 1)
        #expect([levels.ban, levels.kick, levels.redact, levels.invite] == [70, 65, 40, 30])
        #expect(levels.notifications.room == 80)
        #expect(levels.userCanSend(bob, type: "m.room.name", isState: true))
        #expect(!levels.userCanSend(carol, type: "m.room.name", isState: true))
    }

    @Test func stringLevelsAreReadBeforeVersion10Only() {
        let content: JSON = ["users": [bob: " +075 "], "ban": "-5", "kick": "1e3", "events": ["m.room.topic": "007"]]
        let v9 = PowerLevels(content: content, roomVersion: .v9)
        #expect(v9.userLevel(bob) == 75)
        #expect(v9.ban == -5)
        #expect(v9.kick == 50)
        #expect(v9.eventLevel(type: "m.room.topic", isState: true) == 7)
        let v10 = PowerLevels(content: content, roomVersion: .v10)
        #expect(v10.userLevel(bob) == 0)
        #expect(v10.ban == 50)
        #expect(v10.eventLevel(type: "m.room.topic", isState: true) == 50)
    }

    @Test func floatLevelsAreTruncatedBeforeVersion6Only() {
        let content: JSON = ["users": [bob: 50.57], "ban": .double(51146.98)]
        let v5 = PowerLevels(content: content, roomVersion: .v5)
        #expect(v5.userLevel(bob) == 50)
        #expect(v5.ban == 51146)
        let v6 = PowerLevels(content: content, roomVersion: .v6)
        #expect(v6.userLevel(bob) == 0)
        #expect(v6.ban == 50)
    }

    @Test func version12CreatorsHaveInfinitePower() {
        let room = TestRoom(version: .v12, createContent: ["additional_creators": [.string(bob)]])
        let withoutPL = PowerLevels(state: room.state, roomVersion: .v12)
        #expect(withoutPL.userLevel(alice) == .infinite)
        #expect(withoutPL.userLevel(bob) == .infinite)
        #expect(withoutPL.userLevel(carol) == 0)
        #expect(withoutPL.creators == [alice, bob])

        let withPL = PowerLevels(content: ["users": [carol: 100], "users_default": 5], roomVersion: .v12,
                                 creators: withoutPL.creators)
        #expect(withPL.userLevel(alice) == .infinite)
        #expect(withPL.userLevel(carol) == 100)
        #expect(withPL.userLevel(dave) == 5)
        #expect(PowerLevel.infinite > .finite(Int64.max))
        #expect(withPL.user(alice, hasAtLeast: Int64.max))
    }

    @Test func earlierVersionsHaveNoInfiniteCreators() {
        let room = TestRoom(version: .v11, createContent: ["additional_creators": [.string(bob)]])
        let levels = PowerLevels(state: room.state, roomVersion: .v11)
        #expect(levels.userLevel(alice) == 100)
        #expect(levels.userLevel(bob) == 0)
    }
}

@Suite struct AuthPowerLevelsChangeTests {
    func levels(_ users: [String: Int64], _ extra: [String: JSON] = [:]) -> JSON {
        var content = extra
        content["users"] = .object(users.mapValues { .int($0) })
        return .object(content)
    }

    @Test func cannotRaiseAnyoneAboveOwnLevel() {
        let room = TestRoom.standard(.v11)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels([alice: 100, bob: 50, carol: 60])) } == .powerLevelChangeNotAllowed)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels([alice: 100, bob: 50, carol: 50])) } == nil)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels([alice: 100, bob: 51])) } == .powerLevelChangeNotAllowed)
    }

    @Test func cannotChangeUsersAtOrAboveOwnLevel() {
        let room = TestRoom.standard(.v11, levels: [alice: 100, bob: 50, carol: 50])
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels([alice: 100, bob: 50, carol: 0])) } == .powerLevelChangeNotAllowed)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels([alice: 100, bob: 50])) } == .powerLevelChangeNotAllowed)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels([alice: 50, bob: 50, carol: 50])) } == .powerLevelChangeNotAllowed)
        // Demoting oneself is always allowed.
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels([alice: 100, bob: 10, carol: 50])) } == nil)
    }

    @Test func cannotMoveThresholdsBeyondOwnLevel() {
        let room = TestRoom.standard(.v11, extraPowerLevels: ["ban": 100])
        let base: [String: Int64] = [alice: 100, bob: 50]
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels(base, ["ban": 40])) } == .powerLevelChangeNotAllowed)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels(base, ["ban": 100, "kick": 60])) } == .powerLevelChangeNotAllowed)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels(base, ["ban": 100, "kick": 40])) } == nil)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels(base, ["ban": 100, "events": ["m.room.name": 70]])) } == .powerLevelChangeNotAllowed)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: alice,
                                       content: levels(base, ["ban": 40])) } == nil)
    }

    @Test func powerLevelsNeedTheirOwnEventLevel() {
        let room = TestRoom.standard(.v11)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: carol,
                                       content: levels([alice: 100, bob: 50])) } == .insufficientPowerLevel)
    }

    @Test func notificationLevelsAreGuardedFromVersion6() {
        let v6 = TestRoom.standard(.v6, extraPowerLevels: ["notifications": ["room": 100]])
        let lowered = levels([alice: 100, bob: 50], ["notifications": ["room": 10]])
        #expect(denial { try v6.check(type: "m.room.power_levels", stateKey: "", sender: bob, content: lowered) }
            == .powerLevelChangeNotAllowed)
        let v5 = TestRoom.standard(.v5, extraPowerLevels: ["notifications": ["room": 100]])
        #expect(denial { try v5.check(type: "m.room.power_levels", stateKey: "", sender: bob, content: lowered) } == nil)
    }

    @Test func version10RejectsStringPowerLevels() {
        let stringUser: JSON = ["users": [alice: "100"]]
        let stringBan: JSON = ["users": [alice: 100], "ban": "50"]
        let stringEvent: JSON = ["users": [alice: 100], "events": ["m.room.name": "50"]]
        for content in [stringUser, stringBan, stringEvent] {
            let v10 = TestRoom(version: .v10)
            #expect(denial { try v10.check(type: "m.room.power_levels", stateKey: "", sender: alice, content: content) }
                == .invalidPowerLevels)
            let v9 = TestRoom(version: .v9)
            #expect(denial { try v9.check(type: "m.room.power_levels", stateKey: "", sender: alice, content: content) } == nil)
        }
    }

    @Test func usersMustMapUserIDsToLevels() {
        let room = TestRoom(version: .v9)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: alice,
                                       content: ["users": ["alice": 100]]) } == .invalidPowerLevels)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: alice,
                                       content: ["users": [alice: "lots"]]) } == .invalidPowerLevels)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: alice,
                                       content: ["users": .array([.string(alice)])]) } == .invalidPowerLevels)
    }

    @Test func version12CreatorsCannotBeListedAndOutrankEveryone() throws {
        var room = TestRoom(version: .v12, createContent: ["additional_creators": [.string(bob)]])
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: alice,
                                       content: levels([alice: 100])) } == .creatorInPowerLevels)
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: alice,
                                       content: levels([bob: 100])) } == .creatorInPowerLevels)
        try room.send("pl", type: "m.room.power_levels", stateKey: "", sender: alice,
                      content: levels([carol: 100], ["users_default": 0]))
        try room.send("jr", type: "m.room.join_rules", stateKey: "", sender: alice, content: ["join_rule": "public"])
        try room.join(bob)
        try room.join(carol)
        // A creator may set any level, even above any integer another user holds.
        #expect(denial { try room.check(type: "m.room.power_levels", stateKey: "", sender: bob,
                                       content: levels([carol: 9_000_000_000_000])) } == nil)
        // Carol, at 100, can neither kick nor ban a creator, nor demote one.
        #expect(denial { try room.checkMember(alice, "leave", by: carol) } == .insufficientPowerLevel)
        #expect(denial { try room.checkMember(bob, "ban", by: carol) } == .insufficientPowerLevel)
        // Creators are equals: neither can kick the other.
        #expect(denial { try room.checkMember(alice, "leave", by: bob) } == .insufficientPowerLevel)
        // But a creator can kick the top non-creator.
        #expect(denial { try room.checkMember(carol, "leave", by: bob) } == nil)
    }
}

@Suite struct AuthOtherEventTests {
    @Test func outsidersCannotSendEvents() {
        let room = TestRoom.standard(.v11)
        #expect(denial { try room.check(type: "m.room.message", sender: dave, content: ["body": "hi"]) } == .senderNotJoined)
        #expect(denial { try room.check(type: "m.room.message", sender: carol, content: ["body": "hi"]) } == nil)
    }

    @Test func requiredEventLevelIsEnforced() {
        let room = TestRoom.standard(.v11, extraPowerLevels: ["events": ["m.room.message": 10]])
        #expect(denial { try room.check(type: "m.room.topic", stateKey: "", sender: carol, content: ["topic": "x"]) }
            == .insufficientPowerLevel)
        #expect(denial { try room.check(type: "m.room.topic", stateKey: "", sender: bob, content: ["topic": "x"]) } == nil)
        #expect(denial { try room.check(type: "m.room.message", sender: carol, content: ["body": "x"]) } == .insufficientPowerLevel)
    }

    @Test func userStateKeysBelongToTheirUser() {
        let room = TestRoom.standard(.v11, extraPowerLevels: ["state_default": 0])
        #expect(denial { try room.check(type: "org.example.status", stateKey: carol, sender: carol, content: [:]) } == nil)
        #expect(denial { try room.check(type: "org.example.status", stateKey: bob, sender: carol, content: [:]) }
            == .stateKeyNotSender)
        #expect(denial { try room.check(type: "org.example.status", stateKey: bob, sender: alice, content: [:]) }
            == .stateKeyNotSender)
        #expect(denial { try room.check(type: "org.example.status", stateKey: "bob", sender: carol, content: [:]) } == nil)
    }

    @Test func thirdPartyInviteEventsNeedInviteLevel() {
        let room = TestRoom.standard(.v11, extraPowerLevels: ["invite": 50])
        #expect(denial { try room.check(type: "m.room.third_party_invite", stateKey: "tok", sender: carol, content: [:]) }
            == .insufficientPowerLevel)
        #expect(denial { try room.check(type: "m.room.third_party_invite", stateKey: "tok", sender: bob, content: [:]) } == nil)
    }

    @Test func aliasesAreSpecialBeforeVersion6() {
        let v5 = TestRoom.standard(.v5)
        #expect(denial { try v5.check(type: "m.room.aliases", stateKey: "other.org", sender: zara, content: [:]) } == nil)
        #expect(denial { try v5.check(type: "m.room.aliases", stateKey: "example.org", sender: zara, content: [:]) }
            == .invalidAliases)
        let v6 = TestRoom.standard(.v6)
        #expect(denial { try v6.check(type: "m.room.aliases", stateKey: "other.org", sender: zara, content: [:]) }
            == .senderNotJoined)
        #expect(denial { try v6.check(type: "m.room.aliases", stateKey: "example.org", sender: carol, content: [:]) }
            == .insufficientPowerLevel)
    }
}
