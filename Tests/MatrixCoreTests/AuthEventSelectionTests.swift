import MatrixCore
import Testing

@Suite struct AuthEventSelectionTests {
    @Test func messagesCiteCreatePowerLevelsAndSender() {
        let keys = AuthRules.authEventKeys(type: "m.room.message", stateKey: nil, sender: bob, content: [:], roomVersion: .v11)
        #expect(keys == [.create, .powerLevels, .member(bob)])
    }

    @Test func version12NeverCitesTheCreateEvent() {
        let keys = AuthRules.authEventKeys(type: "m.room.message", stateKey: nil, sender: bob, content: [:], roomVersion: .v12)
        #expect(keys == [.powerLevels, .member(bob)])
        #expect(AuthRules.authEventKeys(type: "m.room.create", stateKey: "", sender: bob, content: [:], roomVersion: .v12).isEmpty)
    }

    @Test func membershipsCiteTargetAndJoinRules() {
        let invite = AuthRules.authEventKeys(type: "m.room.member", stateKey: dave, sender: bob,
                                             content: ["membership": "invite"], roomVersion: .v11)
        #expect(invite == [.create, .powerLevels, .member(bob), .member(dave), .joinRules])
        let kick = AuthRules.authEventKeys(type: "m.room.member", stateKey: dave, sender: bob,
                                           content: ["membership": "leave"], roomVersion: .v11)
        #expect(kick == [.create, .powerLevels, .member(bob), .member(dave)])
        let join = AuthRules.authEventKeys(type: "m.room.member", stateKey: dave, sender: dave,
                                           content: ["membership": "join"], roomVersion: .v11)
        #expect(join == [.create, .powerLevels, .member(dave), .joinRules])
    }

    @Test func thirdPartyInvitesCiteTheirToken() {
        let keys = AuthRules.authEventKeys(type: "m.room.member", stateKey: dave, sender: bob,
                                           content: ["membership": "invite", "third_party_invite": ["signed": ["token": "tok"]]],
                                           roomVersion: .v11)
        #expect(keys.contains(StateKey("m.room.third_party_invite", "tok")))
    }

    @Test func restrictedJoinsCiteTheAuthoriserFromVersion8() {
        let content: JSON = ["membership": "join", "join_authorised_via_users_server": .string(bob)]
        #expect(AuthRules.authEventKeys(type: "m.room.member", stateKey: dave, sender: dave, content: content,
                                        roomVersion: .v8).contains(.member(bob)))
        #expect(!AuthRules.authEventKeys(type: "m.room.member", stateKey: dave, sender: dave, content: content,
                                         roomVersion: .v7).contains(.member(bob)))
    }

    @Test func receivedAuthEventsMustMatchTheSelection() {
        let room = TestRoom.standard(.v11)
        let message = room.makeEvent("m", type: "m.room.message", sender: carol, content: ["body": "hi"])
        let cited = message.authEventIDs.compactMap { room.events[$0] }
        #expect(cited.count == 3)
        #expect(denial { try AuthRules.checkAuthEventsSelection(event: message, authEvents: cited, roomVersion: .v11) } == nil)
        let extra = cited + [room.state[.joinRules]!]
        #expect(denial { try AuthRules.checkAuthEventsSelection(event: message, authEvents: extra, roomVersion: .v11) }
            == .invalidAuthEvents)
        let duplicate = cited + [room.events[room.id("pl")]!]
        #expect(denial { try AuthRules.checkAuthEventsSelection(event: message, authEvents: duplicate, roomVersion: .v11) }
            == .invalidAuthEvents)
        let withoutCreate = cited.filter { $0.type != "m.room.create" }
        #expect(denial { try AuthRules.checkAuthEventsSelection(event: message, authEvents: withoutCreate, roomVersion: .v11) }
            == .missingCreateEvent)
    }

    @Test func version12RejectsACitedCreateEvent() {
        let room = TestRoom.standard(.v12)
        let message = room.makeEvent("m", type: "m.room.message", sender: carol, content: ["body": "hi"])
        let cited = message.authEventIDs.compactMap { room.events[$0] }
        #expect(denial { try AuthRules.checkAuthEventsSelection(event: message, authEvents: cited, roomVersion: .v12) } == nil)
        #expect(denial { try AuthRules.checkAuthEventsSelection(event: message, authEvents: cited + [room.state[.create]!],
                                                               roomVersion: .v12) } == .invalidAuthEvents)
    }
}
