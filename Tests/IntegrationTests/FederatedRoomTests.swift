import FederationClient
import Foundation
import MatrixCore
import Storage
import Testing

/// Conversations across two Myelin servers, each with its federation sender: joins through
/// the other server, messages both ways, invites, typing and receipts.
@Suite(.serialized) struct FederatedRoomTests {
    func eventually<T>(_ what: String, timeout: Duration = .seconds(20), _ probe: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let v = try await probe() { return v }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    func bodies(_ s: FederatedServer, _ u: TestUser, _ room: String) async throws -> [String] {
        let chunk = try await s.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/messages?dir=b&limit=50", token: u.token)
        return messageBodies((chunk["chunk"]?.arrayValue ?? []).reversed())
    }

    @Test func aUserJoinsARoomOnAnotherServerAndTheyTalk() async throws {
        try await withTwoFederatedServers(sender: true) { a, b in
            let alice = try await a.makeUser("alice", displayname: "Alice of A")
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "public_chat", "name": "On B", "room_alias_name": "square"])
            try await b.send(bob, room, "before Alice")

            let joined = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape("#square:" + b.name))", token: alice.token, json: [:])
            #expect(joined["room_id"]?.stringValue == room)
            #expect(try await b.api.rooms.membership(room, alice.userID)?.membership == "join")

            // Alice's first sync: the room, its name in the state, her join in the timeline.
            let sync = try await a.sync(alice)
            let joinedRoom = try #require(sync.joinedRoom(room), "\(sync)")
            #expect(joinedRoom.stateEvents.contains { $0["type"] == "m.room.name" && $0["content"]?["name"] == "On B" }, "\(joinedRoom)")
            #expect(joinedRoom.timelineEvents.last?["state_key"]?.stringValue == alice.userID, "\(joinedRoom)")
            #expect(messageBodies(joinedRoom.timelineEvents).isEmpty, "history from before the join is not timeline here")
            let member = try await b.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/state/m.room.member/\(HTTPPath.escape(alice.userID))",
                                        token: bob.token)
            #expect(member["displayname"]?.stringValue == "Alice of A")

            try await b.send(bob, room, "hello Alice")
            _ = try await eventually("bob's message on A") { try await bodies(a, alice, room).contains("hello Alice") ? true : nil }
            try await a.send(alice, room, "hello Bob")
            _ = try await eventually("alice's message on B") { try await bodies(b, bob, room).contains("hello Bob") ? true : nil }
            // Both sides put the conversation in the same order.
            let onB = try await bodies(b, bob, room), onA = try await bodies(a, alice, room)
            #expect(Array(onB.suffix(2)) == ["hello Alice", "hello Bob"], "\(onB)")
            #expect(Array(onA.suffix(2)) == ["hello Alice", "hello Bob"], "\(onA)")

            // Typing and a receipt from A reach Bob.
            let since = try await b.sync(bob)["next_batch"]?.stringValue ?? ""
            _ = try await a.ok(.put, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/typing/\(HTTPPath.escape(alice.userID))",
                               token: alice.token, json: ["typing": true, "timeout": 10000])
            let bobsMessage = try await eventually("the ID of Bob's message on B") {
                try await b.api.events.roomEvents(room, after: 0, upTo: .max, limit: 50, backwards: true)
                    .first { $0.event.content["body"]?.stringValue == "hello Alice" }?.event.eventID
            }
            _ = try await a.ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/receipt/m.read/\(HTTPPath.escape(bobsMessage))",
                               token: alice.token, json: [:])
            #expect(try await typingAndReceiptSeen(b, bob, room, alice.userID, bobsMessage, since: since))

            // Alice leaves; B sees it, and what Bob says afterwards no longer goes to A.
            _ = try await a.ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/leave", token: alice.token, json: [:])
            _ = try await eventually("alice's leave on B") {
                try await b.api.rooms.membership(room, alice.userID)?.membership == "leave" ? true : nil
            }
        }
    }

    /// Whether Bob's syncs from `since` on show Alice typing and her receipt on `event`
    /// (they may come in separate responses), within 20 seconds.
    func typingAndReceiptSeen(_ b: FederatedServer, _ bob: TestUser, _ room: String, _ alice: String, _ event: String,
                              since: String) async throws -> Bool {
        var typing = false, receipt = false
        var token = since
        let deadline = ContinuousClock.now + .seconds(20)
        while !(typing && receipt) && ContinuousClock.now < deadline {
            let s = try await b.sync(bob, ["since": token, "timeout": "1000"])
            token = s["next_batch"]?.stringValue ?? token
            for e in s.joinedRoom(room)?["ephemeral"]?["events"]?.arrayValue ?? [] {
                if e["type"] == "m.typing", e["content"]?["user_ids"]?.arrayValue?.contains(.string(alice)) == true { typing = true }
                if e["type"] == "m.receipt", e["content"]?[event]?["m.read"]?[alice] != nil { receipt = true }
            }
        }
        return typing && receipt
    }

    @Test func invitesInBothDirections() async throws {
        try await withTwoFederatedServers(sender: true) { a, b in
            let alice = try await a.makeUser("alice")
            let bob = try await b.makeUser("bob")
            // Bob invites Alice to a private room on B; she sees it and accepts.
            let room = try await b.createRoom(bob, ["preset": "private_chat", "name": "Private on B"])
            _ = try await b.ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/invite", token: bob.token,
                               json: ["user_id": .string(alice.userID)])
            #expect(try await b.api.rooms.membership(room, alice.userID)?.membership == "invite")
            let invite = try await eventually("the invite in alice's sync") {
                try await a.sync(alice)["rooms"]?["invite"]?[room]?["invite_state"]?["events"]?.arrayValue
            }
            #expect(invite.contains { $0["type"] == "m.room.name" && $0["content"]?["name"] == "Private on B" }, "\(invite)")
            _ = try await a.ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/join", token: alice.token, json: [:])
            #expect(try await b.api.rooms.membership(room, alice.userID)?.membership == "join")

            // Alice invites Bob to a room on A, with the invite in createRoom; Bob rejects it.
            let other = try await a.createRoom(alice, ["preset": "private_chat", "invite": [.string(bob.userID)]])
            _ = try await eventually("the invite in bob's sync") { try await b.sync(bob)["rooms"]?["invite"]?[other] }
            _ = try await b.ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(other))/leave", token: bob.token, json: [:])
            #expect(try await a.api.rooms.membership(other, bob.userID)?.membership == "leave")
            #expect(try await b.api.rooms.membership(other, bob.userID)?.membership == "leave")
            let after = try await b.sync(bob)
            #expect(after["rooms"]?["invite"]?[other] == nil, "\(after)")
        }
    }

    @Test func missingEventsAreFetchedFromTheSender() async throws {
        // A sends nothing by itself here: the test hands B only the second of two messages.
        try await withTwoFederatedServers(sender: true, senderOnA: false) { a, b in
            let alice = try await a.makeUser("alice")
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "public_chat"])
            _ = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape(room))?server_name=\(HTTPPath.escape(b.name))",
                               token: alice.token, json: [:])
            try await a.send(alice, room, "first")
            let second = try await a.send(alice, room, "second")
            let pdu = try #require(try await a.api.events.event(second)).event.json
            let sent = try await RemoteSide(origin: a, target: b).transaction("gap", pdus: [pdu])
            #expect(sent.json["pdus"]?[second] == [:], "\(sent)")
            #expect(Array(try await bodies(b, bob, room).suffix(2)) == ["first", "second"])
        }
    }

    @Test func concurrentSendsOnBothServersForkAndMerge() async throws {
        try await withTwoFederatedServers(sender: true) { a, b in
            let alice = try await a.makeUser("alice")
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "public_chat"])
            _ = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape(room))?server_name=\(HTTPPath.escape(b.name))",
                               token: alice.token, json: [:])
            // Both servers write at once, each on its own view of the room: the graph forks.
            async let fromA: Void = { for i in 1...5 { try await a.send(alice, room, "a\(i)") } }()
            async let fromB: Void = { for i in 1...5 { try await b.send(bob, room, "b\(i)") } }()
            _ = try await (fromA, fromB)
            let all = Set((1...5).flatMap { ["a\($0)", "b\($0)"] })
            for (server, user) in [(a, alice), (b, bob)] {
                _ = try await eventually("every message on \(server.name)") {
                    Set(try await bodies(server, user, room)).isSuperset(of: all) ? true : nil
                }
            }
            // The next event on each side joins the branches it knows, and passes on the other.
            let lastB = try await b.send(bob, room, "after the fork")
            _ = try await eventually("the merge on A") { try await bodies(a, alice, room).contains("after the fork") ? true : nil }
            #expect(try await a.api.events.event(lastB) != nil)
            #expect(try await b.api.events.forwardExtremities(room) == [lastB])
            #expect(try await a.api.rooms.membership(room, alice.userID)?.membership == "join")
            #expect(try await b.api.rooms.membership(room, alice.userID)?.membership == "join")
        }
    }

    @Test func theResidentServerPassesAJoinOnToTheOtherServers() async throws {
        try await retryingOnceOnDatabaseError {
            try await withFreshDatabase { dbA in
                try await withFreshDatabase { dbB in
                    try await withFreshDatabase { dbC in
                        try await FederatedServer.run(db: dbA.db, sender: true) { a in
                            try await FederatedServer.run(db: dbB.db, sender: true) { b in
                                try await FederatedServer.run(db: dbC.db, sender: true) { c in
                                    let carol = try await c.makeUser("carol")
                                    let alice = try await a.makeUser("alice")
                                    let room = try await c.createRoom(carol, ["preset": "public_chat"])
                                    _ = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape(room))?server_name=\(HTTPPath.escape(c.name))",
                                                       token: alice.token, json: [:])
                                    // Bob of B joins through C by the handshake alone: B itself keeps no copy
                                    // of the room and sends nobody his join. C passes it on to A, not to B.
                                    let bob = "@bob:\(b.name)"
                                    try await RemoteSide(origin: b, target: c).join(bob, room: room)
                                    _ = try await eventually("bob's join on A") {
                                        try await a.api.rooms.membership(room, bob)?.membership == "join" ? true : nil
                                    }
                                    let toB = try await FederationOutboxStore(db: c.api.db).pendingEvents(for: b.name, us: c.name, after: 0, limit: 50)
                                    #expect(!toB.events.contains { $0.stateKey == bob }, "the join is not sent back to its own server")
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
