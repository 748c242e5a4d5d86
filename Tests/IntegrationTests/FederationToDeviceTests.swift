import FederationClient
import Foundation
import MatrixCore
import Storage
import Testing

/// `m.direct_to_device` between two servers: what B keeps of A's EDUs, and a local user's
/// message to another server's device reaching it through the federation sender.
@Suite(.serialized) struct FederationToDeviceTests {
    func toDevice(_ sync: JSON) -> [JSON] { sync["to_device"]?["events"]?.arrayValue ?? [] }

    func edu(sender: String, id: String, _ messages: JSON) -> JSON {
        ["edu_type": "m.direct_to_device",
         "content": ["sender": .string(sender), "type": "org.example.fed", "message_id": .string(id), "messages": messages]]
    }

    @Test func messagesFromAnotherServerReachLocalDevicesOnce() async throws {
        try await withTwoFederatedServers { a, b in
            let remote = RemoteSide(origin: a, target: b)
            let bob = try await b.makeUser("bob")
            let dave = try await b.makeUser("dave")
            let carol = "@carol:\(a.name)"
            let since = try await b.sync(bob)["next_batch"]?.stringValue ?? ""
            let daveSince = try await b.sync(dave)["next_batch"]?.stringValue ?? ""
            let sent = try await remote.transaction("t1", pdus: [], edus: [
                edu(sender: carol, id: "m1", .object([bob.userID: ["DEV_bob": ["n": 1], "NO_SUCH_DEVICE": ["n": 2]]])),
                edu(sender: "@mallory:elsewhere.example", id: "m2", .object([bob.userID: ["DEV_bob": ["n": 3]]])),
                edu(sender: carol, id: "m3", .object([dave.userID: ["*": ["n": 4]], "@x:elsewhere.example": ["*": ["n": 5]]])),
                edu(sender: carol, id: "m4", .object([bob.userID: ["DEV_bob": "not an object"]])),
                ["edu_type": "m.direct_to_device", "content": "nonsense"],
            ])
            #expect(sent.status == .ok, "\(sent)")
            // The same message again, in another transaction, is not delivered twice.
            let again = try await remote.transaction("t2", pdus: [], edus: [
                edu(sender: carol, id: "m1", .object([bob.userID: ["DEV_bob": ["n": 1]]])),
            ])
            #expect(again.status == .ok, "\(again)")

            let got = toDevice(try await b.sync(bob, ["since": since, "timeout": "5000"]))
            #expect(got.map { $0["content"] } == [["n": 1]], "\(got)")
            #expect(got.first?["sender"]?.stringValue == carol && got.first?["type"]?.stringValue == "org.example.fed")
            let daves = toDevice(try await b.sync(dave, ["since": daveSince, "timeout": "5000"]))
            #expect(daves.map { $0["content"] } == [["n": 4]], "\(daves)")
        }
    }

    @Test func aLocalUsersMessageGoesToTheOtherServer() async throws {
        try await withTwoFederatedServers(sender: true) { a, b in
            let alice = try await a.makeUser("alice")
            let bob = try await b.makeUser("bob")
            var since = try await b.sync(bob)["next_batch"]?.stringValue ?? ""
            // The sender's consumer group starts at the stream's end once it is up: send
            // until one arrives.
            let deadline = ContinuousClock.now + .seconds(20)
            var got: [JSON] = []
            var attempt = 0
            while got.isEmpty, ContinuousClock.now < deadline {
                attempt += 1
                _ = try await a.ok(.put, "/_matrix/client/v3/sendToDevice/org.example.fed/t\(attempt)", token: alice.token,
                                   json: ["messages": .object([bob.userID: ["*": ["hello": "b"]]])])
                let sync = try await b.sync(bob, ["since": since, "timeout": "2000"])
                since = sync["next_batch"]?.stringValue ?? since
                got = toDevice(sync)
            }
            #expect(got.first?["content"] == ["hello": "b"], "\(got)")
            #expect(got.first?["sender"]?.stringValue == alice.userID)
        }
    }
}
