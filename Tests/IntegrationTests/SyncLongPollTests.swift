import MatrixCore
import Testing

/// Long-polling /sync: it waits on the notifier and returns as soon as something for the
/// user happens. Bounds are generous; what matters is "blocked, then woke promptly".
@Suite(.freshDatabase)
struct SyncLongPollTests {
    @Test func aLongPollBlocksThenReturnsPromptlyWhenAMessageIsSent() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let alice = try await s.user("alice")
            let room = try await s.createRoom(alice)
            let since = try #require(try await s.sync(alice)["next_batch"]?.stringValue)

            let poll = TimedTask { try await s.sync(alice, ["since": since, "timeout": "20000"]) }
            try await Task.sleep(for: .milliseconds(700))
            #expect(!poll.isFinished, "the long-poll returned before anything happened")

            let sentAt = ContinuousClock.now
            let eventID = try await s.send(alice, room, "wake up")
            let result = try await poll.value
            let woke = try #require(poll.finishTime) - sentAt
            #expect(woke < .seconds(1), "woke \(woke) after the send")

            let r = try #require(result.joinedRoom(room), "\(result)")
            #expect(r.timelineEvents.compactMap { $0["event_id"]?.stringValue } == [eventID])
        }
    }

    @Test func aLongPollIsNotWokenByAnotherUsersRoom() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let bob = try await s.user("bob"), carol = try await s.user("carol")
            let bobsRoom = try await s.createRoom(bob)
            let carolsRoom = try await s.createRoom(carol)
            let since = try #require(try await s.sync(bob)["next_batch"]?.stringValue)

            let start = ContinuousClock.now
            let poll = TimedTask { try await s.sync(bob, ["since": since, "timeout": "1500"]) }
            try await Task.sleep(for: .milliseconds(200))
            try await s.send(carol, carolsRoom, "not for bob")
            let result = try await poll.value
            let waited = try #require(poll.finishTime) - start
            #expect(waited >= .milliseconds(1400), "returned after \(waited), before its timeout")
            #expect(result["rooms"]?["join"]?.objectValue?.isEmpty == true, "\(result)")
            #expect(result.joinedRoom(bobsRoom) == nil)
        }
    }

    @Test func aLongPollWakesWhenTheUserIsInvited() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let dave = try await s.user("dave"), erin = try await s.user("erin")
            let room = try await s.createRoom(dave, ["preset": "private_chat"])
            let since = try #require(try await s.sync(erin)["next_batch"]?.stringValue)

            let poll = TimedTask { try await s.sync(erin, ["since": since, "timeout": "20000"]) }
            try await Task.sleep(for: .milliseconds(500))
            #expect(!poll.isFinished)
            let sentAt = ContinuousClock.now
            _ = try await s.ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/invite", token: dave.token,
                               json: ["user_id": .string(erin.userID)])
            let result = try await poll.value
            #expect(try #require(poll.finishTime) - sentAt < .seconds(1))
            #expect(result["rooms"]?["invite"]?[room] != nil, "\(result)")
        }
    }
}
