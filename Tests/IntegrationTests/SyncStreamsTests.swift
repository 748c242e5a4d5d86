import MatrixCore
import Testing

/// An incremental /sync reads only the streams that moved: each kind of change must still
/// arrive once, and filters that exclude a section must keep it out.
@Suite(.freshDatabase)
struct SyncStreamsTests {
    @Test func eachKindOfChangeArrivesInTheNextIncrementalSyncOnce() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let alice = try await s.user("alice"), bob = try await s.user("bob")
            let room = try await s.createRoom(alice)
            try await s.join(bob, room)
            let msg = try await s.send(alice, room, "hello")
            let since = try #require(try await s.sync(alice)["next_batch"]?.stringValue)

            // Nothing moved: a zero-timeout sync is empty and keeps the token's meaning.
            let idle = try await s.sync(alice, ["since": since, "timeout": "0"])
            #expect(idle.joinedRoom(room) == nil)

            let r = HTTPPath.escape(room)
            _ = try await s.ok(.put, "/_matrix/client/v3/user/\(HTTPPath.escape(alice.userID))/account_data/org.example.a",
                               token: alice.token, json: ["n": 1])
            _ = try await s.ok(.post, "/_matrix/client/v3/rooms/\(r)/receipt/m.read/\(HTTPPath.escape(msg))", token: bob.token, json: [:])
            _ = try await s.ok(.put, "/_matrix/client/v3/sendToDevice/org.example.ping/t1", token: bob.token,
                               json: .object(["messages": .object([alice.userID: ["*": ["n": 1]]])]))
            _ = try await s.ok(.put, "/_matrix/client/v3/presence/\(HTTPPath.escape(bob.userID))/status", token: bob.token,
                               json: ["presence": "unavailable"])
            _ = try await s.ok(.put, "/_matrix/client/v3/rooms/\(r)/typing/\(HTTPPath.escape(bob.userID))", token: bob.token,
                               json: ["typing": true, "timeout": 30000])

            let next = try await s.sync(alice, ["since": since, "timeout": "0"])
            #expect(next["account_data"]?["events"]?.arrayValue?.contains { $0.eventType == "org.example.a" } == true)
            let ephemeral = next.joinedRoom(room)?["ephemeral"]?["events"]?.arrayValue ?? []
            #expect(ephemeral.contains { $0.eventType == "m.receipt" }, "receipt missing from \(next)")
            #expect(ephemeral.contains { $0.eventType == "m.typing" })
            #expect(next["to_device"]?["events"]?.arrayValue?.contains { $0.eventType == "org.example.ping" } == true)
            let presence = next["presence"]?["events"]?.arrayValue ?? []
            #expect(presence.contains { $0["sender"]?.stringValue == bob.userID })

            // The same token again: to-device messages stay until a later token acknowledges them.
            let again = try await s.sync(alice, ["since": since, "timeout": "0"])
            #expect(again["to_device"]?["events"]?.arrayValue?.count == 1)
            let after = try #require(next["next_batch"]?.stringValue)
            let acked = try await s.sync(alice, ["since": after, "timeout": "0"])
            #expect(acked["to_device"]?["events"]?.arrayValue?.isEmpty ?? true)
            #expect(acked.joinedRoom(room) == nil)
        }
    }

    @Test func sectionsAFilterExcludesStayOut() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let alice = try await s.user("carol"), bob = try await s.user("dave")
            let room = try await s.createRoom(alice)
            try await s.join(bob, room)
            let filter = JSON.object(["presence": ["types": []], "account_data": ["types": ["org.example.kept"]],
                                      "room": ["ephemeral": ["types": ["m.typing"]]]]).canonicalString
            let since = try #require(try await s.sync(alice, ["filter": filter])["next_batch"]?.stringValue)
            let msg = try await s.send(bob, room, "hi")
            _ = try await s.ok(.put, "/_matrix/client/v3/presence/\(HTTPPath.escape(bob.userID))/status", token: bob.token,
                               json: ["presence": "unavailable"])
            for type in ["org.example.kept", "org.example.dropped"] {
                _ = try await s.ok(.put, "/_matrix/client/v3/user/\(HTTPPath.escape(alice.userID))/account_data/\(type)",
                                   token: alice.token, json: [:])
            }
            _ = try await s.ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/receipt/m.read/\(HTTPPath.escape(msg))",
                               token: bob.token, json: [:])

            let next = try await s.sync(alice, ["since": since, "timeout": "0", "filter": filter])
            #expect(next["presence"]?["events"]?.arrayValue?.isEmpty ?? true)
            let types = (next["account_data"]?["events"]?.arrayValue ?? []).compactMap(\.eventType)
            #expect(types == ["org.example.kept"])
            #expect(messageBodies(next.joinedRoom(room)?.timelineEvents ?? []) == ["hi"])
            let ephemeral = next.joinedRoom(room)?["ephemeral"]?["events"]?.arrayValue ?? []
            #expect(!ephemeral.contains { $0.eventType == "m.receipt" })

            // Without the filter the same range carries them.
            let plain = try await s.sync(alice, ["since": since, "timeout": "0"])
            #expect(plain["presence"]?["events"]?.arrayValue?.contains { $0["sender"]?.stringValue == bob.userID } == true)
            #expect((plain["account_data"]?["events"]?.arrayValue ?? []).count == 2)
        }
    }
}
