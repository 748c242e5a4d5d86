import Foundation
import MatrixCore
import Storage
import Testing

/// History fetched over federation: a user who joins a room of another server late pages
/// back through `/messages`, and their server backfills the earlier events from the room's
/// server, stores them below the timeline and answers from them.
@Suite(.serialized) struct FederationBackfillTests {
    /// Every event `/messages` returns going back from `from`, newest first, and the last page.
    func pageBack(_ s: FederatedServer, _ u: TestUser, _ room: String, from: String, limit: Int) async throws -> ([JSON], JSON) {
        var all: [JSON] = [], token = from
        for _ in 0..<40 {
            let page = try await s.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/messages?dir=b&limit=\(limit)&from=\(HTTPPath.escape(token))",
                                      token: u.token)
            all += page["chunk"]?.arrayValue ?? []
            guard let end = page["end"]?.stringValue else { return (all, page) }
            #expect(end != token)
            token = end
        }
        throw TestFailure("pagination did not end")
    }

    @Test func aLateJoinerPagesBackThroughHistoryFetchedFromTheRoomsServer() async throws {
        try await withTwoFederatedServers { a, b in
            let alice = try await a.makeUser("alice")
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "public_chat", "room_alias_name": "archive"])
            for i in 1...25 { try await b.send(bob, room, "old \(i)") }

            _ = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape("#archive:" + b.name))", token: alice.token, json: [:])
            let sync = try await a.sync(alice)
            let joined = try #require(sync.joinedRoom(room), "\(sync)")
            #expect(messageBodies(joined.timelineEvents).isEmpty)
            let prevBatch = try #require(sync["rooms"]?["join"]?[room]?["timeline"]?["prev_batch"]?.stringValue)
            let headBefore = try await a.api.db.currentStreamHead()

            let (events, last) = try await pageBack(a, alice, room, from: prevBatch, limit: 6)
            #expect(messageBodies(events) == (1...25).reversed().map { "old \($0)" })
            #expect(events.last?["type"]?.stringValue == "m.room.create", "\(events.last ?? [:])")
            #expect(last["end"] == nil)
            let ids = events.compactMap { $0["event_id"]?.stringValue }
            #expect(Set(ids).count == ids.count, "no event twice")
            // Stored as history: below every live position, and nothing new on the stream.
            let stored = try await a.api.events.events(ids)
            #expect(stored.count == ids.count)
            #expect(stored.allSatisfy { $0.streamPos < 0 }, "\(stored.map(\.streamPos))")
            #expect(!ids.contains { id in stored.contains { $0.event.eventID == id && $0.event.stateKey == alice.userID } },
                    "the join came with the first sync, before the token paged from")
            #expect(try await a.api.db.currentStreamHead() == headBefore)
            #expect(try await a.api.events.timelineFrontier(room).isEmpty)

            // A second run reads the same from the database.
            let (again, _) = try await pageBack(a, alice, room, from: prevBatch, limit: 50)
            #expect(again.compactMap { $0["event_id"]?.stringValue } == ids)
            // Forward from the room's start: oldest first.
            let forward = try await a.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/messages?dir=f&limit=100",
                                         token: alice.token)
            #expect(messageBodies(forward["chunk"]?.arrayValue ?? []) == (1...25).map { "old \($0)" })
            // An incremental sync carries no history as news.
            let next = try await a.sync(alice, ["since": sync["next_batch"]?.stringValue ?? "", "timeout": "0"])
            let news = next.joinedRoom(room)?.timelineEvents ?? []
            #expect(messageBodies(news).isEmpty, "\(news)")
        }
    }

    @Test func concurrentPagingBackfillsOnceAndBothSeeEverything() async throws {
        try await withTwoFederatedServers { a, b in
            let alice = try await a.makeUser("alice")
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "public_chat", "room_alias_name": "busy"])
            for i in 1...12 { try await b.send(bob, room, "told \(i)") }
            _ = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape("#busy:" + b.name))", token: alice.token, json: [:])
            let sync = try await a.sync(alice)
            let prevBatch = try #require(sync["rooms"]?["join"]?[room]?["timeline"]?["prev_batch"]?.stringValue)
            async let first = pageBack(a, alice, room, from: prevBatch, limit: 20)
            async let second = pageBack(a, alice, room, from: prevBatch, limit: 20)
            let (x, y) = try await (first, second)
            let expected = (1...12).reversed().map { "told \($0)" }
            #expect(messageBodies(x.0) == expected)
            #expect(messageBodies(y.0) == expected)
            // Stored once: each event has one row, and the pages agree.
            #expect(x.0.compactMap { $0["event_id"]?.stringValue } == y.0.compactMap { $0["event_id"]?.stringValue })
        }
    }

    @Test func historyNotToBeSeenStaysHidden() async throws {
        try await withTwoFederatedServers { a, b in
            let alice = try await a.makeUser("alice")
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "public_chat", "room_alias_name": "secret",
                                                    "initial_state": [["type": "m.room.history_visibility", "state_key": "",
                                                                       "content": ["history_visibility": "joined"]]]])
            for i in 1...5 { try await b.send(bob, room, "before \(i)") }
            _ = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape("#secret:" + b.name))", token: alice.token, json: [:])
            let page = try await a.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/messages?dir=b&limit=50",
                                      token: alice.token)
            // Not even in redacted form (B redacts what A's server may not see, A hides it).
            let chunk = page["chunk"]?.arrayValue ?? []
            #expect(!chunk.contains { $0.eventType == "m.room.message" }, "\(page)")
            #expect(chunk.contains { $0.eventType == "m.room.member" && $0.stateKeyValue == alice.userID }, "\(page)")
        }
    }
}
