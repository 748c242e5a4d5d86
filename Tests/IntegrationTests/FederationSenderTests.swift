import FederationClient
import Foundation
import MatrixCore
import Storage
import Testing

/// The federation sender against a real receiving server: what it sends, in which
/// transactions, and what it records.
@Suite(.serialized) struct FederationSenderTests {
    func waitFor(_ what: String, timeout: Duration = .seconds(20), _ check: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await check() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("timed out waiting for \(what)")
    }

    @Test func eventsOfLocalUsersGoToJoinedServersAndThePositionIsKept() async throws {
        try await withTwoFederatedServers(sender: true) { a, b in
            let remote = RemoteSide(origin: a, target: b)
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "public_chat"])
            let before = try await b.send(bob, room, "before A joined")
            try await remote.join("@carol:\(a.name)", room: room)
            let after = try await b.send(bob, room, "after A joined")
            let afterPos = try #require(try await b.api.events.event(after)).streamPos

            // A is not in the room itself (only the handshake was played), so it takes
            // nothing from the transaction; but it got one, from B.
            try await waitFor("a transaction from B at A") {
                !(try await a.api.db.rows("SELECT 1 FROM federation_inbound_txns WHERE origin = \(b.name)")).isEmpty
            }
            try await waitFor("B's position for A to pass the message") {
                try await FederationOutboxStore(db: b.api.db).position(of: a.name) >= afterPos
            }
            // What B sends A: the event after the join, not the one before.
            let pending = try await FederationOutboxStore(db: b.api.db).pendingEvents(for: a.name, us: b.name, after: 0, limit: 50)
            #expect(pending.events.map(\.eventID).contains(after))
            #expect(!pending.events.map(\.eventID).contains(before))
            #expect(try await LeaseStore(db: b.api.db).holder("federation-sender:\(a.name)") != nil)
        }
    }
}
