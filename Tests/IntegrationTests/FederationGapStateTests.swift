import Foundation
import MatrixCore
import Storage
import Testing

/// A gap longer than `/get_missing_events` closes: the receiving server asks the sender for
/// the state before the events it got (`/state_ids`, then `/event` for what it lacks), so a
/// state change inside the gap still reaches it.
@Suite(.serialized) struct FederationGapStateTests {
    @Test func aTopicSetInsideAnUnclosedGapReachesTheReceiver() async throws {
        // A sends nothing by itself here: the test hands B only A's last event.
        try await withTwoFederatedServers(sender: true, senderOnA: false) { a, b in
            let alice = try await a.makeUser("alice")
            let bob = try await b.makeUser("bob")
            let override: JSON = ["users": .object([alice.userID: 100])]
            let room = try await b.createRoom(bob, ["preset": "public_chat", "power_level_content_override": override])
            _ = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape(room))?server_name=\(HTTPPath.escape(b.name))",
                               token: alice.token, json: [:])
            _ = try await a.ok(.put, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/state/m.room.topic/", token: alice.token,
                               json: ["topic": "set in the gap"])
            var last = ""
            for i in 1...15 { last = try await a.send(alice, room, "gap \(i)") }
            #expect(try await b.api.events.currentStateEvent(room, type: "m.room.topic", stateKey: "") == nil)

            let pdu = try #require(try await a.api.events.event(last)).event.json
            let sent = try await RemoteSide(origin: a, target: b).transaction("late", pdus: [pdu])
            #expect(sent.json["pdus"]?[last] == [:], "\(sent)")
            // More than get_missing_events brings (10), yet the topic is in B's state.
            let topic = try await b.api.events.currentStateEvent(room, type: "m.room.topic", stateKey: "")
            #expect(topic?.event.content["topic"]?.stringValue == "set in the gap", "\(String(describing: topic))")
            let state = try await b.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/state/m.room.topic/", token: bob.token)
            #expect(state["topic"]?.stringValue == "set in the gap")
            let page = try await b.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/messages?dir=b&limit=5", token: bob.token)
            #expect(messageBodies(page["chunk"]?.arrayValue ?? []).first == "gap 15")
        }
    }
}
