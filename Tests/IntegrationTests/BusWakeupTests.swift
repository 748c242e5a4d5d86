import MatrixCore
import Testing

/// Two client-API processes on one Postgres and Redis: a commit in one wakes the long-polls
/// of the other through the Redis fan-out, for the rooms it concerns and no others.
@Suite(.serialized, .freshDatabase)
struct BusWakeupTests {
    @Test func aSendOnOneProcessWakesALongPollOnTheOther() async throws {
        let tdb = try TestDatabase.current()
        try await ClientAPIProcess.withKeyFile { key in
            try await ClientAPIProcess.run(database: tdb, keyFile: key, label: "blue") { blue in
                try await ClientAPIProcess.run(database: tdb, keyFile: key, label: "green") { green in
                    let alice = try await blue.user("alice"), bob = try await blue.user("bob")
                    let room = try await blue.createRoom(alice)
                    let otherRoom = try await blue.createRoom(alice)
                    try await green.join(bob, room)
                    var since = try #require(try await green.sync(bob)["next_batch"]?.stringValue)

                    // Green's bus reader starts at the stream's tail; wait until it hears blue.
                    var live = false
                    for attempt in 0..<20 where !live {
                        let poll = TimedTask { [since] in try await green.sync(bob, ["since": since, "timeout": "1500"]) }
                        try await Task.sleep(for: .milliseconds(300))
                        try await blue.send(alice, room, "probe \(attempt)")
                        let sentAt = ContinuousClock.now
                        let r = try await poll.value
                        since = r["next_batch"]?.stringValue ?? since
                        // Woken by the probe, well before its own timeout.
                        let woke = try #require(poll.finishTime) - sentAt
                        live = r.joinedRoom(room) != nil && woke < .milliseconds(900)
                    }
                    #expect(live, "green never received blue's commits")
                    since = try #require(try await green.sync(bob, ["since": since])["next_batch"]?.stringValue)

                    // A commit to a room bob is not in does not wake him.
                    let start = ContinuousClock.now
                    let quiet = TimedTask { [since] in try await green.sync(bob, ["since": since, "timeout": "1500"]) }
                    try await Task.sleep(for: .milliseconds(200))
                    try await blue.send(alice, otherRoom, "not for bob")
                    let quietResult = try await quiet.value
                    #expect(try #require(quiet.finishTime) - start >= .milliseconds(1400), "woken by another room's commit")
                    #expect(quietResult["rooms"]?["join"]?.objectValue?.isEmpty == true, "\(quietResult)")

                    // A commit to bob's room, on the other process, wakes him promptly.
                    let poll = TimedTask { [since] in try await green.sync(bob, ["since": since, "timeout": "20000"]) }
                    try await Task.sleep(for: .milliseconds(500))
                    #expect(!poll.isFinished, "the long-poll returned before anything happened")
                    let sentAt = ContinuousClock.now
                    let eventID = try await blue.send(alice, room, "across processes")
                    let result = try await poll.value
                    #expect(try #require(poll.finishTime) - sentAt < .seconds(1))
                    let r = try #require(result.joinedRoom(room), "\(result)")
                    #expect(r.timelineEvents.compactMap { $0["event_id"]?.stringValue } == [eventID])
                }
            }
        }
    }
}
