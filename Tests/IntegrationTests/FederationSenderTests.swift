import TestSupport
import FederationClient
import FederationSenderService
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

    /// Bodies of the messages in `room` as `user` sees them on `server`, oldest first.
    func bodies(_ server: FederatedServer, _ user: TestUser, _ room: String) async throws -> [String] {
        let chunk = try await server.ok(.get, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/messages?dir=b&limit=100", token: user.token)
        return messageBodies((chunk["chunk"]?.arrayValue ?? []).reversed())
    }

    /// How many of the transactions `server` received from `origin` carried each event.
    func deliveries(on server: FederatedServer, from origin: String) async throws -> [String: Int] {
        var count: [String: Int] = [:]
        for row in try await server.api.db.rows("SELECT response_json FROM federation_inbound_txns WHERE origin = \(origin)") {
            for id in (try JSON.parse(try row.decode(String.self)))["pdus"]?.objectValue?.keys ?? [:].keys { count[id, default: 0] += 1 }
        }
        return count
    }

    @Test func aServerThatWasDownGetsEverythingOnceAndInOrder() async throws {
        let keyA = try SigningKey.generate(), portA = try freeLocalPort()
        try await withFreshDatabase { dbA in
            try await withFreshDatabase { dbB in
                try await FederatedServer.run(db: dbB.db, sender: true) { b in
                    let bob = try await b.makeUser("bob")
                    let room = try await b.createRoom(bob, ["preset": "public_chat"])
                    let alice = try await FederatedServer.run(db: dbA.db, sender: true, signingKey: keyA, federationPort: portA) { a in
                        let alice = try await a.makeUser("alice")
                        _ = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape(room))?server_name=\(HTTPPath.escape(b.name))",
                                           token: alice.token, json: [:])
                        return alice
                    }
                    // A is down: B keeps trying, pausing longer each time.
                    var ids: [String] = []
                    for i in 1...5 { ids.append(try await b.send(bob, room, "while A was down \(i)")) }
                    let sent = ids
                    try await Task.sleep(for: .seconds(2))
                    let lastPos = try #require(try await b.api.events.event(sent.last!)).streamPos
                    #expect(try await FederationOutboxStore(db: b.api.db).position(of: "localhost:\(portA)") < lastPos)

                    try await FederatedServer.run(db: dbA.db, sender: true, signingKey: keyA, federationPort: portA) { a in
                        try await waitFor("the messages on A after its return") {
                            try await bodies(a, alice, room).filter { $0.hasPrefix("while A was down") }.count == 5
                        }
                        #expect(try await bodies(a, alice, room).filter { $0.hasPrefix("while A") } == (1...5).map { "while A was down \($0)" })
                        let counts = try await deliveries(on: a, from: b.name)
                        for id in sent { #expect(counts[id] == 1, "\(id) was sent \(counts[id] ?? 0) times") }
                    }
                }
            }
        }
    }

    @Test func anotherSenderTakesOverAfterACrashWithoutSendingTwice() async throws {
        // B's senders are run by hand here; B publishes nothing to Redis, so they work from
        // Postgres alone, as after a Redis flush.
        try await retryingOnceOnDatabaseError { try await senderTakeOver() }
    }

    func senderTakeOver() async throws {
        try await withTwoFederatedServers(sender: false, senderOnA: true) { a, b in
            let bob = try await b.makeUser("bob")
            let alice = try await a.makeUser("alice")
            let room = try await b.createRoom(bob, ["preset": "public_chat"])
            _ = try await a.ok(.post, "/_matrix/client/v3/join/\(HTTPPath.escape(room))?server_name=\(HTTPPath.escape(b.name))",
                               token: alice.token, json: [:])
            func sender() throws -> FederationSender {
                try FederationSender(db: b.api.db, federation: b.api.federation, redisURL: try TestEnvironment.redisURL(),
                                     config: .forTests, logger: TestEnvironment.logger("sender"))
            }
            let first = try sender()
            let running = Task { await first.run() }
            let m1 = try await b.send(bob, room, "one")
            try await waitFor("one on A") { try await bodies(a, alice, room).contains("one") }

            // The first sender dies holding its lease (as kill -9 leaves it).
            let leases = LeaseStore(db: b.api.db), lease = "federation-sender:\(a.name)"
            let dead = try #require(try await leases.holder(lease))
            running.cancel()
            await running.value
            #expect(try await leases.acquire(lease, holder: dead, ttlMs: 3_000))
            let m2 = try await b.send(bob, room, "two"), m3 = try await b.send(bob, room, "three")

            let second = try sender()
            let takingOver = Task { await second.run() }
            try await Task.sleep(for: .seconds(1))
            #expect(try await !bodies(a, alice, room).contains("two"), "nothing is sent while the dead sender's lease lasts")
            try await waitFor("two and three on A") { try await bodies(a, alice, room).suffix(2) == ["two", "three"] }
            #expect(try await leases.holder(lease) != dead)
            let counts = try await deliveries(on: a, from: b.name)
            for id in [m1, m2, m3] { #expect(counts[id] == 1, "\(id) was sent \(counts[id] ?? 0) times") }
            takingOver.cancel()
            await takingOver.value
        }
    }
}
