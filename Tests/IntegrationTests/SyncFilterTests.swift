import MatrixCore
import Testing

/// The `filter` parameter of /sync: stored filters belong to their owner and apply on every
/// request that names them; a bad filter is refused every time, not only the first.
@Suite(.freshDatabase)
struct SyncFilterTests {
    @Test func storedFiltersApplyToTheirOwnerOnly() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let alice = try await s.user("alice")
            let bob = try await s.user("bob")
            let room = try await s.createRoom(alice, ["preset": "public_chat"])
            for text in ["one", "two", "three"] { try await s.send(alice, room, text) }
            let created = try await s.ok(.post, "/_matrix/client/v3/user/\(HTTPPath.escape(alice.userID))/filter",
                                         token: alice.token, json: ["room": ["timeline": ["limit": 1]]])
            let id = try #require(created["filter_id"]?.stringValue)

            for _ in 0..<2 {
                let sync = try await s.sync(alice, ["filter": id])
                #expect(messageBodies(try #require(sync.joinedRoom(room)).timelineEvents) == ["three"])
            }
            // Alice's filter ID means nothing to Bob, however often Alice has used it.
            let theirs = try await s.request(.get, "/_matrix/client/v3/sync" + HTTPPath.query(["filter": id]), token: bob.token)
            #expect(theirs.status == .notFound && theirs.errcode == "M_NOT_FOUND", "\(theirs)")
        }
    }

    @Test func aBadInlineFilterIsRefusedEveryTime() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let carol = try await s.user("carol")
            for _ in 0..<2 {
                let r = try await s.request(.get, "/_matrix/client/v3/sync" + HTTPPath.query(["filter": "{\"room\": 3"]),
                                            token: carol.token)
                #expect(r.status == .badRequest && r.errcode == "M_BAD_JSON", "\(r)")
            }
            // The same inline filter, well formed, shapes every sync that sends it.
            let room = try await s.createRoom(carol, [:])
            for text in ["a", "b"] { try await s.send(carol, room, text) }
            let inline = JSON.object(["room": ["timeline": ["limit": 1]]]).canonicalString
            for _ in 0..<2 {
                let sync = try await s.sync(carol, ["filter": inline])
                #expect(messageBodies(try #require(sync.joinedRoom(room)).timelineEvents) == ["b"])
            }
        }
    }
}
