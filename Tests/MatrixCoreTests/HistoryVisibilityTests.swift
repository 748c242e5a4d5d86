import MatrixCore
import Testing

@Suite struct HistoryVisibilityTests {
    @Test func parsingDefaultsToShared() {
        #expect(HistoryVisibility(state: [:]) == .shared)
        #expect(HistoryVisibility(content: ["history_visibility": "sometimes"]) == .shared)
        #expect(HistoryVisibility(content: ["history_visibility": "world_readable"]) == .worldReadable)
        #expect(HistoryVisibility(content: ["history_visibility": "joined"]) == .joined)
    }

    @Test func theFourSettings() {
        // world_readable: anyone, even someone who never joined.
        #expect(HistoryVisibility.worldReadable.allows(membershipAtEvent: nil, joinedAfterEvent: false))
        // Members at the time always see the event.
        for visibility in HistoryVisibility.allCases {
            #expect(visibility.allows(membershipAtEvent: .join, joinedAfterEvent: false))
        }
        // shared: later joiners see earlier history; people who never joined do not.
        #expect(HistoryVisibility.shared.allows(membershipAtEvent: nil, joinedAfterEvent: true))
        #expect(!HistoryVisibility.shared.allows(membershipAtEvent: .leave, joinedAfterEvent: false))
        // invited: from the invite on.
        #expect(HistoryVisibility.invited.allows(membershipAtEvent: .invite, joinedAfterEvent: false))
        #expect(!HistoryVisibility.invited.allows(membershipAtEvent: nil, joinedAfterEvent: true))
        // joined: only while joined.
        #expect(!HistoryVisibility.joined.allows(membershipAtEvent: .invite, joinedAfterEvent: true))
        #expect(!HistoryVisibility.joined.allows(membershipAtEvent: .knock, joinedAfterEvent: true))
    }

    @Test func visibilityChangesAreSeenIfEitherSideAllows() throws {
        var room = TestRoom.standard(.v11)
        try room.send("hv1", type: "m.room.history_visibility", stateKey: "", sender: alice,
                      content: ["history_visibility": "joined"])
        let toWorld = room.makeEvent("hv2", type: "m.room.history_visibility", stateKey: "", sender: alice,
                                     content: ["history_visibility": "world_readable"])
        let message = room.makeEvent("m", type: "m.room.message", sender: alice, content: ["body": "hi"])
        #expect(EventVisibility.userMaySee(toWorld, userID: dave, stateBefore: room.state, joinedAfterEvent: false))
        #expect(!EventVisibility.userMaySee(message, userID: dave, stateBefore: room.state, joinedAfterEvent: true))
        #expect(EventVisibility.userMaySee(message, userID: carol, stateBefore: room.state, joinedAfterEvent: false))
    }

    @Test func ownMembershipEventsAreSeenIfEitherSideAllows() throws {
        var room = TestRoom.standard(.v11, joinRule: "invite")
        try room.send("hv", type: "m.room.history_visibility", stateKey: "", sender: alice,
                      content: ["history_visibility": "joined"])
        try room.member(dave, "invite", by: bob)
        let join = room.makeEvent("j", type: "m.room.member", stateKey: dave, sender: dave, content: ["membership": "join"])
        let reject = room.makeEvent("r", type: "m.room.member", stateKey: dave, sender: dave, content: ["membership": "leave"])
        let carolLeaves = room.makeEvent("c", type: "m.room.member", stateKey: carol, sender: carol,
                                         content: ["membership": "leave"])
        #expect(EventVisibility.userMaySee(join, userID: dave, stateBefore: room.state, joinedAfterEvent: false))
        #expect(EventVisibility.userMaySee(reject, userID: dave, stateBefore: room.state, joinedAfterEvent: false))
        #expect(!EventVisibility.userMaySee(carolLeaves, userID: dave, stateBefore: room.state, joinedAfterEvent: false))
        #expect(EventVisibility.userMaySee(carolLeaves, userID: carol, stateBefore: room.state, joinedAfterEvent: false))
    }
}

@Suite struct JoinRuleTests {
    @Test func parsing() {
        #expect(JoinRule(state: [:]) == .invite)
        #expect(JoinRule(content: [:]) == .invite)
        #expect(JoinRule(content: ["join_rule": "knock_restricted"]) == .knockRestricted)
        #expect(JoinRule(content: ["join_rule": "whenever"]) == nil)
        #expect(JoinRule(content: ["join_rule": 3]) == nil)
        let room = TestRoom.standard(.v11, joinRule: "knock")
        #expect(JoinRule(state: room.state) == .knock)
    }

    @Test func supportDependsOnRoomVersion() {
        #expect(!JoinRule.knock.isSupported(in: .v6))
        #expect(JoinRule.knock.isSupported(in: .v7))
        #expect(!JoinRule.restricted.isSupported(in: .v7))
        #expect(JoinRule.restricted.isSupported(in: .v8))
        #expect(!JoinRule.knockRestricted.isSupported(in: .v9))
        #expect(JoinRule.knockRestricted.isSupported(in: .v10))
        #expect(JoinRule.knockRestricted.allowsKnocking && JoinRule.knockRestricted.allowsRestrictedJoins)
    }

    @Test func allowListRoomIDs() {
        let content: JSON = ["join_rule": "restricted", "allow": [
            ["type": "m.room_membership", "room_id": "!space:example.org"],
            ["type": "org.example.other", "room_id": "!nope:example.org"],
            ["type": "m.room_membership"],
        ]]
        #expect(JoinRule.allowedRoomIDs(content: content) == ["!space:example.org"])
    }
}
