import MatrixCore
import Testing

/// /sync over HTTP: initial, limited timelines and back-pagination, incremental, full state
/// and lazy-loaded members.
@Suite(.freshDatabase)
struct SyncTests {
    static func timelineFilter(_ limit: Int, lazyMembers: Bool = false) -> String {
        var room: [String: JSON] = ["timeline": ["limit": .int(Int64(limit))]]
        if lazyMembers { room["state"] = ["lazy_load_members": true] }
        return JSON.object(["room": .object(room)]).canonicalString
    }

    static func types(_ events: [JSON]) -> Set<String> { Set(events.compactMap(\.eventType)) }

    @Test func initialSyncReturnsTheJoinedRoomWithStateAndTimeline() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let alice = try await s.user("alice")
            let room = try await s.createRoom(alice, ["preset": "public_chat", "name": "Initial"])
            for text in ["one", "two", "three"] { try await s.send(alice, room, text) }

            // Everything fits the default timeline: state and timeline together hold the whole room.
            let whole = try await s.sync(alice)
            let r = try #require(whole.joinedRoom(room), "joined room missing from \(whole)")
            #expect(whole["next_batch"]?.stringValue?.isEmpty == false)
            let all = r.timelineEvents + r.stateEvents
            #expect(Self.types(all).isSuperset(of: ["m.room.create", "m.room.member", "m.room.power_levels", "m.room.join_rules", "m.room.name"]))
            #expect(messageBodies(r.timelineEvents) == ["one", "two", "three"])
            #expect(r.timelineEvents.allSatisfy { $0["event_id"]?.stringValue != nil && $0["room_id"] == nil })

            // With a short timeline the rest of the room arrives as state.
            let short = try await s.sync(alice, ["filter": Self.timelineFilter(3)])
            let sr = try #require(short.joinedRoom(room))
            #expect(messageBodies(sr.timelineEvents) == ["one", "two", "three"])
            #expect(sr["timeline"]?["limited"] == .bool(true))
            #expect(Self.types(sr.stateEvents) == ["m.room.create", "m.room.member", "m.room.power_levels", "m.room.join_rules",
                                                   "m.room.history_visibility", "m.room.name"])
            let names = sr.stateEvents.filter { $0.eventType == "m.room.name" }
            #expect(names.first?["content"]?["name"]?.stringValue == "Initial")
            #expect(sr.stateEvents.contains { $0.eventType == "m.room.member" && $0.stateKeyValue == alice.userID })
        }
    }

    @Test func limitedTimelineGivesAPrevBatchThatPaginatesTheOlderEvents() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let bob = try await s.user("bob")
            let room = try await s.createRoom(bob)
            for i in 0..<15 { try await s.send(bob, room, "m\(i)") }

            let sync = try await s.sync(bob, ["filter": Self.timelineFilter(5)])
            let r = try #require(sync.joinedRoom(room))
            #expect(messageBodies(r.timelineEvents) == (10..<15).map { "m\($0)" })
            #expect(r["timeline"]?["limited"] == .bool(true))
            let prevBatch = try #require(r["timeline"]?["prev_batch"]?.stringValue)

            let path = "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/messages"
            let page = try await s.ok(.get, path + HTTPPath.query(["dir": "b", "from": prevBatch, "limit": "10"]), token: bob.token)
            let chunk = page["chunk"]?.arrayValue ?? []
            #expect(messageBodies(chunk) == (0..<10).reversed().map { "m\($0)" }, "the ten messages just before the timeline, newest first")
            let timelineIDs = Set(r.timelineEvents.compactMap { $0["event_id"]?.stringValue })
            #expect(chunk.allSatisfy { !timelineIDs.contains($0["event_id"]?.stringValue ?? "") }, "no overlap with the timeline")

            // The next page reaches the room's start: its state events, ending with the create event.
            let end = try #require(page["end"]?.stringValue)
            let rest = try await s.ok(.get, path + HTTPPath.query(["dir": "b", "from": end, "limit": "50"]), token: bob.token)
            let restChunk = rest["chunk"]?.arrayValue ?? []
            #expect(messageBodies(restChunk).isEmpty)
            #expect(restChunk.last?.eventType == "m.room.create")
            #expect(rest["end"] == nil, "no further page after the create event")
        }
    }

    @Test func incrementalSyncReturnsOnlyNewEvents() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let carol = try await s.user("carol")
            let busy = try await s.createRoom(carol), quiet = try await s.createRoom(carol)
            try await s.send(carol, busy, "old")
            try await s.send(carol, quiet, "quiet old")
            let first = try await s.sync(carol)
            let since = try #require(first["next_batch"]?.stringValue)

            try await s.send(carol, busy, "new1")
            try await s.send(carol, busy, "new2")
            let next = try await s.sync(carol, ["since": since])
            let r = try #require(next.joinedRoom(busy), "\(next)")
            #expect(messageBodies(r.timelineEvents) == ["new1", "new2"])
            #expect(r.timelineEvents.count == 2, "only the new events")
            #expect(r["timeline"]?["limited"] == .bool(false))
            #expect(r.stateEvents.isEmpty)
            #expect(next.joinedRoom(quiet) == nil, "an unchanged room is left out")
            let nextBatch = try #require(next["next_batch"]?.stringValue)
            #expect(nextBatch != since)

            // Nothing new for carol since then: no rooms in the answer.
            let idle = try await s.sync(carol, ["since": nextBatch, "timeout": "0"])
            #expect(idle["rooms"]?["join"]?.objectValue?.isEmpty == true, "\(idle)")
        }
    }

    @Test func fullStateReturnsTheStateOfEveryJoinedRoom() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let dave = try await s.user("dave")
            let room = try await s.createRoom(dave, ["preset": "public_chat", "topic": "full"])
            for i in 0..<12 { try await s.send(dave, room, "f\(i)") }
            let since = try #require(try await s.sync(dave)["next_batch"]?.stringValue)

            // No new events, yet the room comes back whole, without waiting for the timeout.
            let clock = ContinuousClock(), start = clock.now
            let full = try await s.sync(dave, ["since": since, "full_state": "true", "timeout": "10000"])
            #expect(clock.now - start < .seconds(5), "full_state answers at once")
            let r = try #require(full.joinedRoom(room), "\(full)")
            #expect(Self.types(r.stateEvents).isSuperset(of: ["m.room.create", "m.room.member", "m.room.power_levels", "m.room.topic"]))
            #expect(r.stateEvents.contains { $0.eventType == "m.room.member" && $0.stateKeyValue == dave.userID })
        }
    }

    @Test func lazyLoadMembersReturnsOnlyTheSendersMemberEvents() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let erin = try await s.user("erin"), frank = try await s.user("frank"), gina = try await s.user("gina")
            let room = try await s.createRoom(erin)
            try await s.join(frank, room)
            try await s.join(gina, room)
            try await s.send(gina, room, "gina was here")
            for i in 0..<4 { try await s.send(erin, room, "e\(i)") }

            let lazy = try await s.sync(frank, ["filter": Self.timelineFilter(3, lazyMembers: true)])
            let r = try #require(lazy.joinedRoom(room))
            #expect(Set(r.timelineEvents.compactMap { $0["sender"]?.stringValue }) == [erin.userID])
            let members = Set(r.stateEvents.filter { $0.eventType == "m.room.member" }.compactMap(\.stateKeyValue))
            #expect(members.contains(erin.userID), "the timeline's sender is included")
            #expect(!members.contains(gina.userID), "a member who sent nothing in the timeline is left out")
            #expect(members.isSubset(of: [erin.userID, frank.userID]))
            #expect(r.stateEvents.contains { $0.eventType == "m.room.create" }, "other state is unaffected")

            // Without lazy loading every member is there.
            let eager = try await s.sync(frank, ["filter": Self.timelineFilter(3)])
            let er = try #require(eager.joinedRoom(room))
            let all = Set(er.stateEvents.filter { $0.eventType == "m.room.member" }.compactMap(\.stateKeyValue))
            #expect(all == [erin.userID, frank.userID, gina.userID])
        }
    }

    @Test func incrementalLimitedSyncCarriesStateChangedInTheGap() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let hana = try await s.user("hana")
            let room = try await s.createRoom(hana, ["preset": "public_chat", "name": "Before"])
            let since = try #require(try await s.sync(hana)["next_batch"]?.stringValue)

            _ = try await s.ok(.put, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/state/m.room.name", token: hana.token,
                               json: ["name": "After"])
            for i in 0..<8 { try await s.send(hana, room, "g\(i)") }

            let next = try await s.sync(hana, ["since": since, "filter": Self.timelineFilter(3)])
            let r = try #require(next.joinedRoom(room), "\(next)")
            #expect(messageBodies(r.timelineEvents) == ["g5", "g6", "g7"])
            #expect(r["timeline"]?["limited"] == .bool(true))
            // The rename happened in the gap the timeline skipped: it arrives as state, and only it.
            #expect(r.stateEvents.compactMap(\.eventType) == ["m.room.name"], "\(r.stateEvents)")
            #expect(r.stateEvents.first?["content"]?["name"]?.stringValue == "After")

            // prev_batch pages back over the gap down to the old token, and no further.
            let prevBatch = try #require(r["timeline"]?["prev_batch"]?.stringValue)
            let page = try await s.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/messages"
                                      + HTTPPath.query(["dir": "b", "from": prevBatch, "to": since, "limit": "50"]), token: hana.token)
            let chunk = page["chunk"]?.arrayValue ?? []
            #expect(messageBodies(chunk) == ["g4", "g3", "g2", "g1", "g0"])
            #expect(chunk.last?.eventType == "m.room.name")
        }
    }

    @Test func leavingARoomShowsItUnderLeaveOnce() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let ivan = try await s.user("ivan"), judy = try await s.user("judy")
            let room = try await s.createRoom(ivan)
            try await s.join(judy, room)
            let since = try #require(try await s.sync(judy)["next_batch"]?.stringValue)

            _ = try await s.ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/leave", token: judy.token, json: [:])
            try await s.send(ivan, room, "after judy left")
            let next = try await s.sync(judy, ["since": since])
            #expect(next.joinedRoom(room) == nil)
            let left = try #require(next["rooms"]?["leave"]?[room], "\(next)")
            let leave = left.timelineEvents.last
            #expect(leave?.eventType == "m.room.member" && leave?["content"]?["membership"]?.stringValue == "leave")
            #expect(messageBodies(left.timelineEvents).isEmpty, "nothing after the leave is visible")

            let later = try await s.sync(judy, ["since": try #require(next["next_batch"]?.stringValue), "timeout": "0"])
            #expect(later["rooms"]?["leave"]?[room] == nil, "reported once")
        }
    }
}
