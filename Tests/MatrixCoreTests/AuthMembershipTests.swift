import MatrixCore
import Testing

@Suite struct AuthJoinTests {
    @Test(arguments: RoomVersion.all)
    func creatorJoinsRightAfterCreate(version: RoomVersion) {
        let room = TestRoom(version: version)
        #expect(room.state[.member(alice)]?.membership == "join")
        #expect(room.state[.member(alice)]?.prevEventIDs == [room.id("create")])
    }

    @Test func onlyTheCreatorMayJoinRightAfterCreate() {
        var room = TestRoom(version: .v11)
        room.events = [:]
        let create = room.state[.create]!
        room.state = [.create: create]
        room.head = [create.eventID]
        #expect(denial { try room.checkMember(bob, "join") } == .joinNotAllowed)
        #expect(denial { try room.checkMember(alice, "join") } == nil)
    }

    @Test func publicRoomsLetAnyoneJoin() {
        let room = TestRoom.standard(.v11, joinRule: "public")
        #expect(denial { try room.checkMember(dave, "join") } == nil)
    }

    @Test func inviteOnlyRoomsNeedAnInvite() throws {
        var room = TestRoom.standard(.v11, joinRule: "invite")
        #expect(denial { try room.checkMember(dave, "join") } == .joinNotAllowed)
        try room.member(dave, "invite", by: bob)
        #expect(denial { try room.checkMember(dave, "join") } == nil)
    }

    @Test func noJoinRulesEventMeansInviteOnly() {
        let room = TestRoom(version: .v11)
        #expect(denial { try room.checkMember(bob, "join") } == .joinNotAllowed)
    }

    @Test func nobodyJoinsForSomeoneElse() {
        let room = TestRoom.standard(.v11)
        #expect(denial { try room.checkMember(dave, "join", by: bob) } == .senderNotTarget)
    }

    @Test func bannedUsersCannotJoin() throws {
        var room = TestRoom.standard(.v11)
        try room.member(dave, "ban", by: alice)
        #expect(denial { try room.checkMember(dave, "join") } == .senderBanned)
    }

    @Test func privateAndUnknownJoinRulesLetNobodyIn() throws {
        let room = TestRoom.standard(.v11, joinRule: "private")
        #expect(denial { try room.checkMember(dave, "join") } == .joinNotAllowed)
        let odd = TestRoom.standard(.v11, joinRule: "by_magic")
        #expect(denial { try odd.checkMember(dave, "join") } == .joinNotAllowed)
    }
}

@Suite struct AuthInviteTests {
    @Test func joinedMembersWithInviteLevelMayInvite() {
        let room = TestRoom.standard(.v11, joinRule: "invite")
        #expect(denial { try room.checkMember(dave, "invite", by: carol) } == nil)
    }

    @Test func outsidersCannotInvite() {
        let room = TestRoom.standard(.v11, joinRule: "invite")
        #expect(denial { try room.checkMember(carol, "invite", by: dave) } == .senderNotJoined)
    }

    @Test func joinedOrBannedUsersCannotBeInvited() throws {
        var room = TestRoom.standard(.v11, joinRule: "invite")
        #expect(denial { try room.checkMember(carol, "invite", by: bob) } == .targetAlreadyJoined)
        try room.member(dave, "ban", by: alice)
        #expect(denial { try room.checkMember(dave, "invite", by: bob) } == .targetBanned)
    }

    @Test func inviteLevelIsEnforced() {
        let room = TestRoom.standard(.v11, joinRule: "invite", extraPowerLevels: ["invite": 50])
        #expect(denial { try room.checkMember(dave, "invite", by: carol) } == .insufficientPowerLevel)
        #expect(denial { try room.checkMember(dave, "invite", by: bob) } == nil)
    }
}

@Suite struct AuthLeaveKickBanTests {
    @Test func membersMayLeave() {
        let room = TestRoom.standard(.v11)
        #expect(denial { try room.checkMember(carol, "leave") } == nil)
    }

    @Test func nonMembersCannotLeave() {
        let room = TestRoom.standard(.v11)
        #expect(denial { try room.checkMember(dave, "leave") } == .leaveNotAllowed)
    }

    @Test func invitesMayBeRejected() throws {
        var room = TestRoom.standard(.v11, joinRule: "invite")
        try room.member(dave, "invite", by: bob)
        #expect(denial { try room.checkMember(dave, "leave") } == nil)
    }

    @Test func bannedUsersCannotLeaveThemselves() throws {
        var room = TestRoom.standard(.v11)
        try room.member(dave, "ban", by: alice)
        #expect(denial { try room.checkMember(dave, "leave") } == .leaveNotAllowed)
    }

    @Test func kickNeedsKickLevelAndMorePowerThanTheTarget() {
        let room = TestRoom.standard(.v11, levels: [alice: 100, bob: 50, dave: 50], members: [bob, carol, dave])
        #expect(denial { try room.checkMember(carol, "leave", by: bob) } == nil)
        #expect(denial { try room.checkMember(dave, "leave", by: bob) } == .insufficientPowerLevel)
        #expect(denial { try room.checkMember(alice, "leave", by: bob) } == .insufficientPowerLevel)
        #expect(denial { try room.checkMember(bob, "leave", by: carol) } == .insufficientPowerLevel)
    }

    @Test func outsidersCannotKick() {
        let room = TestRoom.standard(.v11, levels: [alice: 100, dave: 100], members: [bob])
        #expect(denial { try room.checkMember(bob, "leave", by: dave) } == .senderNotJoined)
    }

    @Test func unbanNeedsBanLevelAsWellAsKickLevel() throws {
        var room = TestRoom.standard(.v11, extraPowerLevels: ["ban": 75, "kick": 50])
        try room.member(dave, "ban", by: alice)
        #expect(denial { try room.checkMember(dave, "leave", by: bob) } == .insufficientPowerLevel)
        #expect(denial { try room.checkMember(dave, "leave", by: alice) } == nil)
    }

    @Test func banNeedsBanLevelAndMorePowerThanTheTarget() {
        let room = TestRoom.standard(.v11, levels: [alice: 100, bob: 50, dave: 50], members: [bob, carol, dave])
        #expect(denial { try room.checkMember(carol, "ban", by: bob) } == nil)
        #expect(denial { try room.checkMember(zara, "ban", by: bob) } == nil)
        #expect(denial { try room.checkMember(dave, "ban", by: bob) } == .insufficientPowerLevel)
        #expect(denial { try room.checkMember(alice, "ban", by: bob) } == .insufficientPowerLevel)
        #expect(denial { try room.checkMember(bob, "ban", by: carol) } == .insufficientPowerLevel)
    }

    @Test func outsidersCannotBan() {
        let room = TestRoom.standard(.v11, levels: [alice: 100, dave: 100], members: [bob])
        #expect(denial { try room.checkMember(bob, "ban", by: dave) } == .senderNotJoined)
    }

    @Test func unknownMembershipIsRejected() {
        let room = TestRoom.standard(.v11)
        #expect(denial { try room.checkMember(carol, "lurk") } == .unknownMembership)
        #expect(denial { try room.check(type: "m.room.member", stateKey: carol, sender: carol, content: [:]) } == .malformedEvent)
    }
}

@Suite struct AuthKnockTests {
    @Test func knockingNeedsTheKnockJoinRule() {
        let knock = TestRoom.standard(.v7, joinRule: "knock")
        #expect(denial { try knock.checkMember(dave, "knock") } == nil)
        let invite = TestRoom.standard(.v7, joinRule: "invite")
        #expect(denial { try invite.checkMember(dave, "knock") } == .knockNotAllowed)
        let publicRoom = TestRoom.standard(.v7, joinRule: "public")
        #expect(denial { try publicRoom.checkMember(dave, "knock") } == .knockNotAllowed)
    }

    @Test func knockIsUnknownBeforeVersion7() {
        let room = TestRoom.standard(.v6, joinRule: "knock")
        #expect(denial { try room.checkMember(dave, "knock") } == .unknownMembership)
    }

    @Test func knockRestrictedAllowsKnockingFromVersion10() {
        let v10 = TestRoom.standard(.v10, joinRule: "knock_restricted")
        #expect(denial { try v10.checkMember(dave, "knock") } == nil)
        let v9 = TestRoom.standard(.v9, joinRule: "knock_restricted")
        #expect(denial { try v9.checkMember(dave, "knock") } == .knockNotAllowed)
    }

    @Test func onlyOutsidersKnockForThemselves() throws {
        var room = TestRoom.standard(.v11, joinRule: "knock")
        #expect(denial { try room.checkMember(dave, "knock", by: bob) } == .senderNotTarget)
        #expect(denial { try room.checkMember(carol, "knock") } == .knockNotAllowed)
        try room.member(dave, "invite", by: bob)
        #expect(denial { try room.checkMember(dave, "knock") } == .knockNotAllowed)
        try room.member(zara, "ban", by: alice)
        #expect(denial { try room.checkMember(zara, "knock") } == .senderBanned)
    }

    @Test func knockersMayWithdrawAndBeInvited() throws {
        var room = TestRoom.standard(.v11, joinRule: "knock")
        try room.member(dave, "knock")
        #expect(denial { try room.checkMember(dave, "leave") } == nil)
        #expect(denial { try room.checkMember(dave, "invite", by: bob) } == nil)
        // Knocking is not an invite: the knocker still cannot join by themselves.
        #expect(denial { try room.checkMember(dave, "join") } == .joinNotAllowed)
    }
}

@Suite struct AuthRestrictedJoinTests {
    let authorised: [String: JSON] = ["join_authorised_via_users_server": .string(bob)]

    @Test func restrictedJoinNeedsAnAuthorisingUser() {
        let room = TestRoom.standard(.v8, joinRule: "restricted")
        #expect(denial { try room.checkMember(dave, "join") } == .invalidAuthorisingUser)
        #expect(denial { try room.checkMember(dave, "join", content: authorised) } == nil)
    }

    @Test func authorisingUserMustBeJoined() {
        let room = TestRoom.standard(.v8, levels: [alice: 100, dave: 50], members: [carol], joinRule: "restricted")
        let viaDave: [String: JSON] = ["join_authorised_via_users_server": .string(dave)]
        #expect(denial { try room.checkMember(zara, "join", content: viaDave, signedBy: ["example.org"]) } == .invalidAuthorisingUser)
    }

    @Test func authorisingUserMustBeAbleToInvite() {
        let room = TestRoom.standard(.v9, joinRule: "restricted", extraPowerLevels: ["invite": 50])
        let viaCarol: [String: JSON] = ["join_authorised_via_users_server": .string(carol)]
        #expect(denial { try room.checkMember(dave, "join", content: viaCarol) } == .invalidAuthorisingUser)
        #expect(denial { try room.checkMember(dave, "join", content: authorised) } == nil)
    }

    @Test func authorisingServerMustHaveSigned() {
        let room = TestRoom.standard(.v10, joinRule: "knock_restricted")
        #expect(denial { try room.checkMember(zara, "join", content: authorised) } == .invalidAuthorisingUser)
        #expect(denial { try room.checkMember(zara, "join", content: authorised, signedBy: ["example.org"]) } == nil)
    }

    @Test func invitedUsersJoinRestrictedRoomsWithoutAuthoriser() throws {
        var room = TestRoom.standard(.v8, joinRule: "restricted")
        try room.member(dave, "invite", by: carol)
        #expect(denial { try room.checkMember(dave, "join") } == nil)
    }

    @Test func restrictedMeansNothingBeforeVersion8() {
        let room = TestRoom.standard(.v7, joinRule: "restricted")
        #expect(denial { try room.checkMember(dave, "join", content: authorised) } == .joinNotAllowed)
    }

    @Test func knockRestrictedMeansNothingBeforeVersion10() {
        let room = TestRoom.standard(.v9, joinRule: "knock_restricted")
        #expect(denial { try room.checkMember(dave, "join", content: authorised) } == .joinNotAllowed)
    }
}
