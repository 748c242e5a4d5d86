@testable import MatrixCore
import Testing

/// The building blocks of version 2 resolution, on bare events with hand-written auth edges.
@Suite struct StateResolutionOrderingTests {
    static let roomID = "!room:example.org"

    static func event(_ id: String, _ type: String, sender: String = alice, stateKey: String = "",
                      content: JSON = [:], ts: Int64 = 0, auth: [String] = []) -> Event {
        Event(eventID: id, json: ["room_id": .string(roomID), "type": .string(type), "state_key": .string(stateKey),
                                  "sender": .string(sender), "content": content, "origin_server_ts": .int(ts),
                                  "auth_events": JSON(auth)])
    }

    func withGraph<T>(_ events: [Event], version: RoomVersion = .v11, _ body: (StateResolution.EventGraph) -> T) -> T {
        let map = Dictionary(uniqueKeysWithValues: events.map { ($0.eventID, $0) })
        return body(StateResolution.EventGraph(fetch: { map[$0] }, roomVersion: version))
    }

    @Test func powerOrderingPrefersPowerThenTimeThenID() {
        let create = Self.event("$create", "m.room.create", content: ["creator": .string(alice)])
        let pl = Self.event("$pl", "m.room.power_levels", content: ["users": [alice: 100, bob: 50]], auth: ["$create"])
        let byBob = Self.event("$b", "m.room.join_rules", sender: bob, ts: 1, auth: ["$create", "$pl"])
        let byAliceLate = Self.event("$a2", "m.room.join_rules", ts: 9, auth: ["$create", "$pl"])
        let byAliceEarly = Self.event("$a1", "m.room.join_rules", ts: 5, auth: ["$create", "$pl"])
        let byAliceSameTime = Self.event("$a0", "m.room.join_rules", ts: 9, auth: ["$create", "$pl"])
        let all = [create, pl, byBob, byAliceLate, byAliceEarly, byAliceSameTime]
        let full = Set(all.map(\.eventID))
        let ordered = withGraph(all) { $0.reverseTopologicalPowerOrder(["$b", "$a2", "$a1", "$a0", "$pl"], within: full) }
        // Auth dependencies first, then Alice's (100) by time and ID, then Bob's (50).
        #expect(ordered == ["$create", "$pl", "$a1", "$a0", "$a2", "$b"])
    }

    @Test func authDependenciesOutrankPower() {
        let create = Self.event("$create", "m.room.create", content: ["creator": .string(alice)])
        let pl = Self.event("$pl", "m.room.power_levels", sender: bob, content: ["users": [alice: 100, bob: 10]],
                            ts: 50, auth: ["$create"])
        let later = Self.event("$later", "m.room.join_rules", ts: 1, auth: ["$create", "$pl"])
        let full: Set<String> = ["$pl", "$later"]
        let ordered = withGraph([create, pl, later]) { $0.reverseTopologicalPowerOrder(["$later", "$pl"], within: full) }
        #expect(ordered == ["$pl", "$later"])
    }

    @Test func mainlineOrderingPutsOlderPowerLevelsFirst() {
        let create = Self.event("$create", "m.room.create", content: ["creator": .string(alice)])
        let p1 = Self.event("$p1", "m.room.power_levels", auth: ["$create"])
        let p2 = Self.event("$p2", "m.room.power_levels", auth: ["$create", "$p1"])
        let p3 = Self.event("$p3", "m.room.power_levels", auth: ["$create", "$p2"])
        let onP3 = Self.event("$x3", "m.room.topic", ts: 1, auth: ["$create", "$p3"])
        let onP1 = Self.event("$x1", "m.room.topic", ts: 9, auth: ["$create", "$p1"])
        let onP2early = Self.event("$y2", "m.room.topic", ts: 2, auth: ["$create", "$p2"])
        let onP2late = Self.event("$x2", "m.room.topic", ts: 7, auth: ["$create", "$p2"])
        let noPL = Self.event("$z", "m.room.topic", ts: 100, auth: ["$create"])
        let all = [create, p1, p2, p3, onP3, onP1, onP2early, onP2late, noPL]
        let ordered = withGraph(all) { $0.mainlineOrder(["$x3", "$x1", "$x2", "$y2", "$z"], powerLevelsID: "$p3") }
        #expect(ordered == ["$z", "$x1", "$y2", "$x2", "$x3"])
    }

    @Test func authDifferenceIsWhatNotEveryChainHas() {
        let create = Self.event("$create", "m.room.create")
        let shared = Self.event("$shared", "m.room.member", stateKey: alice, auth: ["$create"])
        let onlyA = Self.event("$onlyA", "m.room.power_levels", auth: ["$create", "$shared"])
        let topicA = Self.event("$topicA", "m.room.topic", auth: ["$create", "$onlyA"])
        let topicB = Self.event("$topicB", "m.room.topic", auth: ["$create", "$shared"])
        let sets: [[StateKey: String]] = [
            [.create: "$create", StateKey("m.room.topic", ""): "$topicA"],
            [.create: "$create", StateKey("m.room.topic", ""): "$topicB"],
        ]
        let diff = withGraph([create, shared, onlyA, topicA, topicB]) { $0.authDifference(sets) }
        #expect(diff == ["$onlyA", "$topicA", "$topicB"])
    }

    @Test func conflictedSubgraphHoldsThePathsBetweenConflictedEvents() {
        let create = Self.event("$create", "m.room.create")
        let below = Self.event("$below", "m.room.member", stateKey: alice, auth: ["$create"])
        let c1 = Self.event("$c1", "m.room.power_levels", auth: ["$create", "$below"])
        let middle = Self.event("$middle", "m.room.member", stateKey: bob, auth: ["$create", "$c1"])
        let c2 = Self.event("$c2", "m.room.power_levels", auth: ["$create", "$middle"])
        let aside = Self.event("$aside", "m.room.topic", auth: ["$create", "$below"])
        let sub = withGraph([create, below, c1, middle, c2, aside]) { $0.conflictedSubgraph(["$c1", "$c2", "$aside"]) }
        #expect(sub == ["$c1", "$middle", "$c2", "$aside"])
    }

    @Test func version12ImpliesTheCreateEvent() {
        let message = Event(eventID: "$m", json: ["room_id": "!abc", "type": "m.room.message", "sender": .string(alice),
                                                   "auth_events": ["$pl"]])
        let ids = withGraph([], version: .v12) { $0.authEventIDs(of: message) }
        #expect(ids == ["$pl", "$abc"])
        let v11 = withGraph([]) { $0.authEventIDs(of: message) }
        #expect(v11 == ["$pl"])
    }

    @Test func priorityQueuePopsInOrder() {
        var queue = StateResolution.PriorityQueue<Int>()
        for n in [5, 1, 9, 3, 3, 7, 0] { queue.push(n) }
        var out: [Int] = []
        while let n = queue.pop() { out.append(n) }
        #expect(out == [0, 1, 3, 3, 5, 7, 9])
        #expect(queue.isEmpty)
    }
}
