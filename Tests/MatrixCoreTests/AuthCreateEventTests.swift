import MatrixCore
import Testing

@Suite struct AuthCreateEventTests {
    func create(_ version: RoomVersion, content: JSON, roomID: String? = "!room:example.org",
                sender: String = alice, prev: JSON = []) -> Event {
        var json: JSON = ["type": "m.room.create", "state_key": "", "sender": .string(sender),
                          "content": content, "prev_events": prev, "auth_events": [], "depth": 1]
        if let roomID { json["room_id"] = .string(roomID) }
        return Event(eventID: "$create", json: json)
    }

    @Test(arguments: RoomVersion.all)
    func roomsCreateWithTheirOwnShape(version: RoomVersion) {
        var content: JSON = ["room_version": .string(version.id)]
        if version.number < 11 { content["creator"] = .string(alice) }
        let roomID: String? = version.roomIDFromCreateEvent ? nil : "!room:example.org"
        let event = create(version, content: content, roomID: roomID)
        #expect(denial { try AuthRules.check(event: event, authEvents: [:], roomVersion: version) } == nil)
    }

    @Test func createWithPrevEventsIsRejected() {
        let event = create(.v10, content: ["creator": .string(alice)], prev: ["$earlier"])
        #expect(denial { try AuthRules.check(event: event, authEvents: [:], roomVersion: .v10) } == .invalidCreateEvent)
    }

    @Test func creatorIsRequiredBeforeVersion11Only() {
        let event = create(.v10, content: ["room_version": "10"])
        #expect(denial { try AuthRules.check(event: event, authEvents: [:], roomVersion: .v10) } == .invalidCreateEvent)
        let v11 = create(.v11, content: ["room_version": "11"])
        #expect(denial { try AuthRules.check(event: v11, authEvents: [:], roomVersion: .v11) } == nil)
    }

    @Test func roomIDMustBeOnTheSendersServer() {
        let event = create(.v11, content: [:], roomID: "!room:other.org")
        #expect(denial { try AuthRules.check(event: event, authEvents: [:], roomVersion: .v11) } == .invalidCreateEvent)
    }

    @Test func unknownRoomVersionIsRejected() {
        let event = create(.v11, content: ["room_version": "99"])
        #expect(denial { try AuthRules.check(event: event, authEvents: [:], roomVersion: .v11) } == .invalidCreateEvent)
    }

    @Test func version12CreateMustNotHaveARoomID() {
        let event = create(.v12, content: ["room_version": "12"], roomID: "!room:example.org")
        #expect(denial { try AuthRules.check(event: event, authEvents: [:], roomVersion: .v12) } == .invalidCreateEvent)
    }

    @Test func version12AdditionalCreatorsMustBeUserIDs() {
        let good = create(.v12, content: ["additional_creators": [.string(bob)]], roomID: nil)
        #expect(denial { try AuthRules.check(event: good, authEvents: [:], roomVersion: .v12) } == nil)
        let bad = create(.v12, content: ["additional_creators": ["bob"]], roomID: nil)
        #expect(denial { try AuthRules.check(event: bad, authEvents: [:], roomVersion: .v12) } == .invalidCreateEvent)
        let notArray = create(.v12, content: ["additional_creators": .string(bob)], roomID: nil)
        #expect(denial { try AuthRules.check(event: notArray, authEvents: [:], roomVersion: .v12) } == .invalidCreateEvent)
    }

    @Test func eventsNeedTheCreateEvent() {
        let room = TestRoom.standard(.v11)
        let message = room.makeEvent("m", type: "m.room.message", sender: bob, content: ["body": "hi"])
        var state = room.state
        state[.create] = nil
        #expect(denial { try AuthRules.check(event: message, authEvents: state, roomVersion: .v11) } == .missingCreateEvent)
    }

    @Test func version12RoomIDMustDeriveFromTheCreateEvent() {
        let room = TestRoom.standard(.v12)
        let message = room.makeEvent("m", type: "m.room.message", sender: bob, content: ["body": "hi"],
                                     extra: ["room_id": "!someOtherRoom"])
        #expect(denial { try AuthRules.check(event: message, authEvents: room.state, roomVersion: .v12) } == .missingCreateEvent)
        let good = room.makeEvent("m2", type: "m.room.message", sender: bob, content: ["body": "hi"])
        #expect(denial { try AuthRules.check(event: good, authEvents: room.state, roomVersion: .v12) } == nil)
    }

    @Test func authEventsFromAnotherRoomAreRejected() {
        let room = TestRoom.standard(.v11)
        var state = room.state
        let bobJoin = state[.member(bob)]!
        var json = bobJoin.json
        json["room_id"] = "!elsewhere:example.org"
        state[.member(bob)] = Event(eventID: bobJoin.eventID, json: json)
        let message = room.makeEvent("m", type: "m.room.message", sender: bob, content: ["body": "hi"])
        #expect(denial { try AuthRules.check(event: message, authEvents: state, roomVersion: .v11) } == .wrongRoom)
    }

    @Test func unfederatedRoomsRejectOtherServers() {
        var room = TestRoom(version: .v11, createContent: ["m.federate": false])
        try! room.send("jr", type: "m.room.join_rules", stateKey: "", sender: alice, content: ["join_rule": "public"])
        #expect(room.state[.joinRules] != nil)
        #expect(denial { try room.checkMember(zara, "join") } == .federationForbidden)
        #expect(denial { try room.checkMember(bob, "join") } == nil)
    }
}
