import TestSupport
import FederationClient
import FederationSenderService
import Foundation
import MatrixCore
import Storage
import Testing

/// A destination that was down is retried as soon as it talks to us, not when the pause
/// after its last failure ends.
@Suite(.serialized) struct FederationSenderWakeTests {
    @Test func aServerBackFromAnOutageIsSentToAsSoonAsItContactsUs() async throws {
        // Pauses far longer than the test waits: only the wake-up can deliver in time.
        let patient = SenderConfig(catchUpInterval: .seconds(120), initialRetryDelay: .seconds(120),
                                   maxRetryDelay: .seconds(120), leaseTTLMs: 60_000, leaseRenewMarginMs: 30_000)
        let keyA = try SigningKey.generate(), portA = try freeLocalPort()
        try await withFreshDatabase { dbA in
            try await withFreshDatabase { dbB in
                try await FederatedServer.run(db: dbB.db, sender: true, senderConfig: patient) { b in
                    let bob = try await b.makeUser("bob")
                    let room = try await b.createRoom(bob, ["preset": "public_chat"])
                    let alice = try await FederatedServer.run(db: dbA.db, signingKey: keyA, federationPort: portA) { a in
                        let alice = try await a.makeUser("alice")
                        _ = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape(room))?server_name=\(HTTPPath.escape(b.name))",
                                           token: alice.token, json: [:])
                        return alice
                    }
                    // A is down: B's first attempt fails and it pauses for two minutes.
                    let sent = try await b.send(bob, room, "while A was down")
                    let outbox = FederationOutboxStore(db: b.api.db)
                    let sentPos = try #require(try await b.api.events.event(sent)).streamPos
                    // (Longer than B's client API waits before passing on A's next contact.)
                    try await Task.sleep(for: .seconds(3))
                    #expect(try await outbox.position(of: "localhost:\(portA)") < sentPos)

                    try await FederatedServer.run(db: dbA.db, signingKey: keyA, federationPort: portA) { a in
                        // A asks B something, as any server back up soon does.
                        let uri = "/_matrix/federation/v1/query/profile?user_id=\(HTTPPath.escape(bob.userID))"
                        _ = try await a.api.federation.get(try #require(ServerName(b.name)), uri)
                        let deadline = ContinuousClock.now + .seconds(20)
                        var bodies: [String] = []
                        while ContinuousClock.now < deadline {
                            let chunk = try await a.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/messages?dir=b&limit=50",
                                                       token: alice.token)
                            bodies = messageBodies(chunk["chunk"]?.arrayValue ?? [])
                            if bodies.contains("while A was down") { break }
                            try await Task.sleep(for: .milliseconds(200))
                        }
                        #expect(bodies.contains("while A was down"), "B did not retry when A contacted it")
                    }
                }
            }
        }
    }
}
