import FederationClient
import Foundation
import MatrixCore
import Storage
import Testing

/// Inbound `/send`: B hosts a room A's user Carol joined; the test sends B transactions as
/// A would, signed with A's real key, and looks at what B's users get.
@Suite(.serialized) struct FederationTransactionTests {
    /// Bob on B in a public room that Carol of A has joined.
    func withJoinedRoom(_ body: @escaping @Sendable (RemoteSide, TestUser, String, String) async throws -> Void) async throws {
        try await withTwoFederatedServers { a, b in
            let remote = RemoteSide(origin: a, target: b)
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "public_chat"])
            let carol = "@carol:\(a.name)"
            try await remote.join(carol, room: room)
            try await body(remote, bob, room, carol)
        }
    }

    func message(_ remote: RemoteSide, _ room: String, _ sender: String, _ text: String, key: SigningKey? = nil,
                 prev: [String]? = nil) async throws -> Event {
        try await remote.event(room, sender: sender, type: "m.room.message", content: ["msgtype": "m.text", "body": .string(text)],
                               prev: prev, key: key)
    }

    func timeline(_ b: FederatedServer, _ bob: TestUser, _ room: String) async throws -> [JSON] {
        try await b.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/messages?dir=b&limit=50", token: bob.token)["chunk"]?
            .arrayValue ?? []
    }

    @Test func messagesFromAnotherServerReachLocalUsers() async throws {
        try await withJoinedRoom { remote, bob, room, carol in
            let b = remote.target
            let since = try await b.sync(bob)["next_batch"]?.stringValue ?? ""
            let hello = try await message(remote, room, carol, "hello from A")
            let sent = try await remote.transaction("t1", pdus: [hello.json])
            #expect(sent.status == .ok, "\(sent)")
            #expect(sent.json["pdus"]?[hello.eventID] == [:], "\(sent)")
            let sync = try await b.sync(bob, ["since": since, "timeout": "5000"])
            #expect(messageBodies(sync.joinedRoom(room)?.timelineEvents ?? []) == ["hello from A"], "\(sync)")

            // Bob answers on top of it: the room's DAG now runs through Carol's event.
            let reply = try await b.send(bob, room, "hi Carol")
            let stored = try #require(try await b.api.events.event(reply))
            #expect(stored.event.prevEventIDs == [hello.eventID])

            // An event whose prev event B lacks: B asks A (which does not have the room and
            // cannot answer), then takes the event with the part of the graph it has.
            let unknownPrev = try await message(remote, room, carol, "after a gap", prev: ["$" + String(repeating: "A", count: 43)])
            let gap = try await remote.transaction("t2", pdus: [unknownPrev.json])
            #expect(gap.json["pdus"]?[unknownPrev.eventID] == [:], "\(gap)")
            #expect(messageBodies(try await timeline(b, bob, room)).first == "after a gap")
        }
    }

    @Test func badSignaturesHashesAndAuthAreRefused() async throws {
        try await withJoinedRoom { remote, bob, room, carol in
            let b = remote.target
            let impostor = try SigningKey(seed: try SigningKey.generate().seed, version: remote.origin.api.signingKey.version)
            let forged = try await message(remote, room, carol, "forged", key: impostor)
            let mallory = "@mallory:\(remote.origin.name)"
            let notJoined = try await message(remote, room, mallory, "not a member")
            let good = try await message(remote, room, carol, "the original text")
            // Content changed after signing: the hash no longer matches, the signature (over
            // the redacted form) still does. B keeps the event, redacted.
            var altered = good.json
            altered["content"] = ["msgtype": "m.text", "body": "changed on the way"]

            let sent = try await remote.transaction("bad", pdus: [forged.json, notJoined.json, altered])
            #expect(sent.status == .ok, "\(sent)")
            #expect(sent.json["pdus"]?[forged.eventID]?["error"] != nil, "\(sent)")
            #expect(sent.json["pdus"]?[notJoined.eventID]?["error"] != nil, "\(sent)")
            #expect(sent.json["pdus"]?[good.eventID] == [:], "\(sent)")

            #expect(try await b.api.events.event(forged.eventID) == nil, "a PDU with a bad signature is dropped")
            #expect(try await b.api.events.event(notJoined.eventID) == nil, "a PDU failing auth is not in the room")
            let rejected = try await FederationInboxStore(db: b.api.db).rejected([notJoined.eventID])
            #expect(rejected[notJoined.eventID] == true)
            let kept = try #require(try await b.api.events.event(good.eventID))
            #expect(kept.event.content == [:], "stored redacted: \(kept.event.json)")
            let bodies = messageBodies(try await timeline(b, bob, room))
            #expect(!bodies.contains("forged") && !bodies.contains("not a member") && !bodies.contains("changed on the way"), "\(bodies)")
        }
    }

    @Test func aReplayedTransactionIsNotProcessedTwice() async throws {
        try await withJoinedRoom { remote, bob, room, carol in
            let b = remote.target
            func typing(_ on: Bool) -> JSON {
                ["edu_type": "m.typing", "content": ["room_id": .string(room), "user_id": .string(carol), "typing": .bool(on)]]
            }
            func carolTyping() async throws -> Bool {
                !(try await b.api.db.rows("""
                    SELECT 1 FROM typing WHERE room_id = \(room) AND user_id = \(carol) AND expires_ts > \(Int64(Date().timeIntervalSince1970 * 1000))
                    """)).isEmpty
            }
            let m = try await message(remote, room, carol, "once")
            let first = try await remote.transaction("replayed", pdus: [m.json], edus: [typing(true)])
            #expect(first.status == .ok && first.json["pdus"]?[m.eventID] == [:], "\(first)")
            #expect(try await carolTyping())
            _ = try await remote.transaction("next", pdus: [], edus: [typing(false)])
            #expect(try await !carolTyping())

            let again = try await remote.transaction("replayed", pdus: [m.json], edus: [typing(true)])
            #expect(again.status == .ok && again.json == first.json, "\(again)")
            #expect(try await !carolTyping(), "the replay's typing notice was not applied again")
            #expect(messageBodies(try await timeline(b, bob, room)).filter { $0 == "once" }.count == 1)

            // Someone else's transaction with the same ID is another transaction; it may
            // not claim to come from elsewhere.
            let spoofed = try await b.signedRequest("PUT", "/_matrix/federation/v1/send/x", origin: remote.origin.name,
                                                    key: remote.origin.api.signingKey,
                                                    body: ["origin": "elsewhere.example", "pdus": []])
            #expect(spoofed.status == .forbidden, "\(spoofed)")
        }
    }

    @Test func typingAndReceiptsOfRemoteUsersShowInSync() async throws {
        try await withJoinedRoom { remote, bob, room, carol in
            let b = remote.target
            let mine = try await b.send(bob, room, "read me")
            let since = try await b.sync(bob)["next_batch"]?.stringValue ?? ""
            let stranger = "@stranger:\(remote.origin.name)"
            let sent = try await remote.transaction("edus", pdus: [], edus: [
                ["edu_type": "m.typing", "content": ["room_id": .string(room), "user_id": .string(carol), "typing": true]],
                ["edu_type": "m.typing", "content": ["room_id": .string(room), "user_id": .string(stranger), "typing": true]],
                ["edu_type": "m.typing", "content": ["room_id": .string(room), "user_id": .string(bob.userID), "typing": true]],
                ["edu_type": "m.receipt", "content": [room: ["m.read": [carol: ["event_ids": [.string(mine)], "data": ["ts": 1]]]]]],
                ["edu_type": "m.presence", "content": ["push": []]],
            ])
            #expect(sent.status == .ok, "\(sent)")
            let sync = try await b.sync(bob, ["since": since, "timeout": "5000"])
            let ephemeral = sync.joinedRoom(room)?["ephemeral"]?["events"]?.arrayValue ?? []
            let typing = ephemeral.first { $0["type"]?.stringValue == "m.typing" }
            #expect(typing?["content"]?["user_ids"] == [.string(carol)], "only A's own joined users: \(ephemeral)")
            let receipt = ephemeral.first { $0["type"]?.stringValue == "m.receipt" }
            #expect(receipt?["content"]?[mine]?["m.read"]?[carol] != nil, "\(ephemeral)")
        }
    }

    @Test func deviceListUpdatesOfRemoteUsersShowInSync() async throws {
        try await withJoinedRoom { remote, bob, _, carol in
            let b = remote.target
            let since = try await b.sync(bob)["next_batch"]?.stringValue ?? ""
            func update(_ user: String) -> JSON {
                ["edu_type": "m.device_list_update",
                 "content": ["user_id": .string(user), "device_id": "D", "stream_id": 5, "prev_id": [], "deleted": false]]
            }
            let sent = try await remote.transaction("devices", pdus: [], edus: [
                update(carol), update("@stranger:\(remote.origin.name)"), update("@x:elsewhere.example"),
                ["edu_type": "m.device_list_update", "content": "nonsense"],
            ])
            #expect(sent.status == .ok, "\(sent)")
            let sync = try await b.sync(bob, ["since": since, "timeout": "5000"])
            #expect(sync["device_lists"]?["changed"] == [.string(carol)], "\(sync["device_lists"] ?? nil)")
        }
    }
}
