import Crypto
import Foundation
import MatrixCore
import Testing

@Suite struct StateResolutionTests {
    func resolve(_ forks: TestRoom..., rejected: Set<String> = [], using version: RoomVersion? = nil) -> StateMap {
        StateResolution.resolve(stateMaps: forks.map(\.state), authChainEvents: TestRoom.allEvents(forks[0], forks[1]),
                                roomVersion: version ?? forks[0].version, rejectedEventIDs: rejected)
    }

    func topic(_ state: StateMap) -> String? { state[StateKey("m.room.topic", "")]?.content["topic"]?.stringValue }

    /// Alice (100) bans Bob (50) while Bob, concurrently, makes Carol a moderator.
    @Test(arguments: [RoomVersion.v1, .v2, .v6, .v11, .v12])
    func banBeatsConcurrentOp(version: RoomVersion) throws {
        let room = TestRoom.standard(version, levels: [alice: 100, bob: 50], members: [bob, carol])
        var banned = room
        try banned.member(bob, "ban", by: alice, name: "ban-bob")
        var opped = room
        try opped.send("op-carol", type: "m.room.power_levels", stateKey: "", sender: bob,
                       content: room.powerLevels([alice: 100, bob: 50, carol: 50]))

        let resolved = resolve(banned, opped)
        #expect(resolved[.member(bob)]?.eventID == room.id("ban-bob"))
        #expect(resolved[.powerLevels]?.eventID == room.id("pl"))
        #expect(PowerLevels(state: resolved, roomVersion: version).userLevel(carol) == 0)
        // Everything the forks agree on survives.
        #expect(resolved[.member(carol)]?.eventID == room.state[.member(carol)]?.eventID)
        #expect(resolved[.create]?.eventID == room.id("create"))
    }

    /// Two moderators set the topic at once: the later timestamp wins, whoever sent it.
    @Test(arguments: [(aliceTS: Int64(3_000), bobTS: Int64(2_000), winner: "alice's"),
                      (aliceTS: Int64(2_000), bobTS: Int64(3_000), winner: "bob's")])
    func concurrentTopicsResolveByTimestamp(aliceTS: Int64, bobTS: Int64, winner: String) throws {
        let room = TestRoom.standard(.v11, levels: [alice: 100, bob: 50])
        var a = room, b = room
        try a.send("topic-a", type: "m.room.topic", stateKey: "", sender: alice, content: ["topic": "alice's"], ts: aliceTS)
        try b.send("topic-b", type: "m.room.topic", stateKey: "", sender: bob, content: ["topic": "bob's"], ts: bobTS)
        #expect(topic(resolve(a, b)) == winner)
        #expect(topic(resolve(b, a)) == winner)
    }

    /// A topic set by someone who is later banned on one fork does not override the other
    /// fork's older topic.
    @Test(arguments: [RoomVersion.v1, .v2, .v11, .v12])
    func topicFromBannedUserDoesNotWin(version: RoomVersion) throws {
        var room = TestRoom.standard(version, levels: [alice: 100], members: [bob])
        try room.send("t1", type: "m.room.topic", stateKey: "", sender: alice, content: ["topic": "one"])
        let quiet = room
        var busy = room
        try busy.send("pl-bob", type: "m.room.power_levels", stateKey: "", sender: alice,
                      content: room.powerLevels([alice: 100, bob: 50]))
        try busy.send("t2", type: "m.room.topic", stateKey: "", sender: bob, content: ["topic": "two"])
        try busy.member(bob, "ban", by: alice, name: "ban-bob")

        let resolved = resolve(busy, quiet)
        #expect(topic(resolved) == "one")
        #expect(resolved[.member(bob)]?.eventID == room.id("ban-bob"))
        #expect(resolved[.powerLevels]?.eventID == room.id("pl-bob"))
    }

    /// Version 1 picks the deepest event; version 2 orders by power levels then time.
    @Test func depthDecidesInVersion1AndTimeInVersion2() throws {
        func forks(_ version: RoomVersion) throws -> (TestRoom, TestRoom) {
            let room = TestRoom.standard(version, levels: [alice: 100, bob: 50])
            var deep = room, shallow = room
            for n in 0..<3 {
                try deep.send("msg\(n)", type: "m.room.message", sender: alice, content: ["body": "hi"], ts: 1_100 + Int64(n))
            }
            try deep.send("topic-deep", type: "m.room.topic", stateKey: "", sender: alice, content: ["topic": "deep"], ts: 1_500)
            try shallow.send("topic-late", type: "m.room.topic", stateKey: "", sender: bob, content: ["topic": "late"], ts: 5_000)
            #expect(deep.state[StateKey("m.room.topic", "")]!.depth > shallow.state[StateKey("m.room.topic", "")]!.depth)
            return (deep, shallow)
        }
        let (v1Deep, v1Shallow) = try forks(.v1)
        #expect(topic(resolve(v1Deep, v1Shallow)) == "deep")
        let (v2Deep, v2Shallow) = try forks(.v2)
        #expect(topic(resolve(v2Deep, v2Shallow)) == "late")

        // The same events through both algorithms.
        let all = TestRoom.allEvents(v2Deep, v2Shallow)
        let sets = [v2Deep.state.mapValues(\.eventID), v2Shallow.state.mapValues(\.eventID)]
        let topicKey = StateKey("m.room.topic", "")
        #expect(StateResolution.resolveV1(stateSets: sets, roomVersion: .v2) { all[$0] }[topicKey] == v2Deep.id("topic-deep"))
        #expect(StateResolution.resolveV2(stateSets: sets, roomVersion: .v2) { all[$0] }[topicKey] == v2Deep.id("topic-late"))
    }

    /// Bob names the room while Alice demotes him. Version 1 does not treat a key only one
    /// fork has as a conflict, so the name stays; version 2 re-checks it and drops it.
    @Test func version1KeepsStateTheOtherForkNeverSaw() throws {
        for version in [RoomVersion.v1, .v2] {
            let room = TestRoom.standard(version, levels: [alice: 100, bob: 50])
            var named = room, demoted = room
            try named.send("name", type: "m.room.name", stateKey: "", sender: bob, content: ["name": "Bob's room"])
            try demoted.send("demote", type: "m.room.power_levels", stateKey: "", sender: alice,
                             content: ["users": [alice: 100]])
            let resolved = resolve(named, demoted)
            #expect(resolved[.powerLevels]?.eventID == room.id("demote"))
            let name = resolved[StateKey("m.room.name", "")]?.eventID
            #expect(name == (version == .v1 ? room.id("name") : nil))
        }
    }

    @Test func rejectedEventsNeverEnterTheState() throws {
        let room = TestRoom.standard(.v11, levels: [alice: 100, bob: 50])
        var a = room, b = room
        try a.send("topic-a", type: "m.room.topic", stateKey: "", sender: alice, content: ["topic": "a"], ts: 2_000)
        try b.send("topic-b", type: "m.room.topic", stateKey: "", sender: bob, content: ["topic": "b"], ts: 3_000)
        #expect(topic(resolve(a, b)) == "b")
        #expect(topic(resolve(a, b, rejected: [room.id("topic-b")])) == "a")
    }

    @Test func identicalStatesResolveToThemselves() {
        let room = TestRoom.standard(.v11)
        let sets = [room.state.mapValues(\.eventID), room.state.mapValues(\.eventID)]
        let resolved = StateResolution.resolve(stateSets: sets, roomVersion: .v11, events: room.events)
        #expect(resolved == room.state.mapValues(\.eventID))
    }

    @Test func keysOnlySomeForksHaveAreCheckedInVersion2() throws {
        let room = TestRoom.standard(.v11, levels: [alice: 100, bob: 50])
        var a = room
        try a.send("name", type: "m.room.name", stateKey: "", sender: bob, content: ["name": "n"])
        let resolved = resolve(a, room)
        #expect(resolved[StateKey("m.room.name", "")]?.eventID == room.id("name"))
    }

    /// Bob, a moderator, changes the join rule while Alice bans him; his ban then reaches
    /// both forks, so it is unconflicted. Version 2 checks Bob's change against that
    /// unconflicted ban and drops it; version 12 starts from an empty state, checks the
    /// change against its own auth events, and keeps it.
    @Test(arguments: [(RoomVersion.v11, "public"), (.v12, "knock")])
    func version12NoLongerChecksConflictsAgainstUnconflictedState(version: RoomVersion, joinRule: String) throws {
        let room = TestRoom.standard(version, levels: [alice: 100, bob: 50])
        var changed = room, banned = room
        try changed.send("jr-bob", type: "m.room.join_rules", stateKey: "", sender: bob, content: ["join_rule": "knock"],
                         ts: 5_000)
        try banned.member(bob, "ban", by: alice, name: "ban-bob", ts: 2_000)
        changed.state[.member(bob)] = banned.state[.member(bob)]
        changed.events.merge(banned.events) { a, _ in a }

        let resolved = resolve(changed, banned)
        #expect(resolved[.member(bob)]?.eventID == room.id("ban-bob"))
        #expect(resolved[.joinRules]?.content["join_rule"]?.stringValue == joinRule)
    }

    /// Version 1 breaks depth ties by the SHA-1 of the event ID, smallest winning.
    @Test func version1BreaksDepthTiesByHash() throws {
        func sha1(_ s: String) -> String { Insecure.SHA1.hash(data: Data(s.utf8)).map { String(format: "%02x", $0) }.joined() }
        let room = TestRoom.standard(.v1)
        var a = room, b = room
        try a.send("jr-a", type: "m.room.join_rules", stateKey: "", sender: alice, content: ["join_rule": "invite"])
        try a.send("topic-a", type: "m.room.topic", stateKey: "", sender: alice, content: ["topic": "a"])
        try b.send("jr-b", type: "m.room.join_rules", stateKey: "", sender: alice, content: ["join_rule": "private"])
        try b.send("topic-b", type: "m.room.topic", stateKey: "", sender: alice, content: ["topic": "b"])
        let resolved = resolve(a, b)
        let jrWinner = sha1(room.id("jr-a")) < sha1(room.id("jr-b")) ? room.id("jr-a") : room.id("jr-b")
        let topicWinner = sha1(room.id("topic-a")) < sha1(room.id("topic-b")) ? room.id("topic-a") : room.id("topic-b")
        #expect(resolved[.joinRules]?.eventID == jrWinner)
        #expect(resolved[StateKey("m.room.topic", "")]?.eventID == topicWinner)
    }

    /// A state reset: one fork's power levels went back to an older event (`pl`) although
    /// its topic was authorised by a newer one (`pl2`). Version 2 checks Carol's later
    /// change against the old levels and keeps the reset; version 12 replays `pl2`, which
    /// lies on the auth path between the two conflicted power levels, and recovers.
    @Test(arguments: [(RoomVersion.v11, "pl"), (.v12, "pl3")])
    func version12ReplaysTheConflictedSubgraph(version: RoomVersion, winner: String) throws {
        var room = TestRoom.standard(version, levels: [alice: 100, bob: 50], members: [bob, carol])
        try room.send("pl2", type: "m.room.power_levels", stateKey: "", sender: alice,
                      content: room.powerLevels([alice: 100, bob: 50, carol: 50]))
        var raised = room, reset = room
        try raised.send("pl3", type: "m.room.power_levels", stateKey: "", sender: carol,
                        content: room.powerLevels([alice: 100, bob: 50, carol: 50, dave: 10]))
        try reset.send("topic", type: "m.room.topic", stateKey: "", sender: carol, content: ["topic": "t"])
        reset.state[.powerLevels] = room.events[room.id("pl")]

        let resolved = resolve(raised, reset)
        #expect(resolved[.powerLevels]?.eventID == room.id(winner))
        #expect((topic(resolved) != nil) == (version == .v12))
    }
}
