import MatrixCore
import Testing

@Suite struct AuthRedactionTests {
    func redaction(_ room: TestRoom, id: String, sender: String, redacts: String) -> Event {
        if room.version.redactsInContent {
            return room.makeEvent(id, type: "m.room.redaction", sender: sender, content: ["redacts": .string(redacts)])
        }
        return room.makeEvent(id, type: "m.room.redaction", sender: sender, content: [:], extra: ["redacts": .string(redacts)])
    }

    func authorise(_ room: TestRoom, _ event: Event) -> AuthError.Reason? {
        denial { try AuthRules.check(event: event, authEvents: room.state, roomVersion: room.version) }
    }

    @Test(arguments: [RoomVersion.v1, .v2])
    func versions1And2AuthoriseByRedactLevelOrEventIDServer(version: RoomVersion) {
        let room = TestRoom.standard(version)
        // Carol (level 0) may redact an event whose ID is from the redaction's own server...
        #expect(authorise(room, redaction(room, id: "$r1:example.org", sender: carol, redacts: "$m:example.org")) == nil)
        // ...but not one from another server,
        #expect(authorise(room, redaction(room, id: "$r2:example.org", sender: carol, redacts: "$m:other.org"))
            == .redactionNotAllowed)
        // which Bob, at the redact level, may.
        #expect(authorise(room, redaction(room, id: "$r3:example.org", sender: bob, redacts: "$m:other.org")) == nil)
    }

    @Test(arguments: [RoomVersion.v3, .v6, .v11, .v12])
    func fromVersion3RedactionsAreOrdinaryEvents(version: RoomVersion) {
        let room = TestRoom.standard(version)
        #expect(authorise(room, redaction(room, id: "r1", sender: carol, redacts: "$someoneElses")) == nil)
        let strict = TestRoom.standard(version, extraPowerLevels: ["events": ["m.room.redaction": 50]])
        #expect(authorise(strict, redaction(strict, id: "r2", sender: carol, redacts: "$x")) == .insufficientPowerLevel)
        #expect(authorise(strict, redaction(strict, id: "r3", sender: bob, redacts: "$x")) == nil)
    }

    @Test func applyingARedactionNeedsRedactLevelOrTheSameServer() {
        let room = TestRoom.standard(.v11)
        let levels = PowerLevels(state: room.state, roomVersion: .v11)
        let local = room.makeEvent("local", type: "m.room.message", sender: dave, content: ["body": "x"])
        let remote = room.makeEvent("remote", type: "m.room.message", sender: zara, content: ["body": "x"])
        let byCarol = redaction(room, id: "rc", sender: carol, redacts: remote.eventID)
        let byBob = redaction(room, id: "rb", sender: bob, redacts: remote.eventID)
        #expect(AuthRules.mayApplyRedaction(byCarol, to: local, powerLevels: levels, roomVersion: .v11))
        #expect(!AuthRules.mayApplyRedaction(byCarol, to: remote, powerLevels: levels, roomVersion: .v11))
        #expect(AuthRules.mayApplyRedaction(byBob, to: remote, powerLevels: levels, roomVersion: .v11))
    }
}
