import TestSupport
import Bus
import Synchronization
import Testing

/// Each test runs its own redis-server so it can kill and restart it without
/// disturbing other suites (this is true even when a shared server is given).
@Suite(.serialized) struct RedisOutageTests {
    @Test func fanoutReaderSurvivesAServerRestart() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.kill() }
        let stream = uniqueStream("restart")
        let publisher = BusPublisher(url: server.url, backoff: .init(initial: .milliseconds(20), maximum: .milliseconds(200)))
        let reconnects = Mutex(0)
        let reader = BusFanoutReader(url: server.url, stream: stream,
                                     options: .init(backoff: .init(initial: .milliseconds(50), maximum: .milliseconds(500))),
                                     onReconnect: { reconnects.withLock { $0 += 1 } })
        let received = Collected<StreamEntry>()
        let run = Task { await reader.run { received.append($0) } }
        #expect(await waitUntilLive(stream: stream, publisher: publisher, received: received))
        #expect(reconnects.withLock { $0 } == 0)

        server.kill()
        try await Task.sleep(for: .milliseconds(500))   // reader is now failing to reconnect
        try await server.start()

        #expect(await eventually(timeout: .seconds(10)) { reconnects.withLock { $0 } >= 1 })
        let after = Collected<String>()
        let delivered = await eventually(timeout: .seconds(10), poll: .milliseconds(50)) {
            if let id = await publisher.publish(stream: stream, fields: ["after": "restart"]) { after.append(id) }
            return received.all.contains { $0["after"] == "restart" }
        }
        #expect(delivered)
        #expect(received.all.filter { $0["after"] != nil }.allSatisfy { after.all.contains($0.id) })
        reader.stop()
        await run.value
        await publisher.shutdown()
    }

    @Test func fanoutReaderStartedWhileRedisIsDownCatchesUpWhenItComes() async throws {
        let server = RedisServerProcess(port: try freeLocalPort())
        defer { server.kill() }
        let reconnects = Mutex(0)
        let stream = uniqueStream("late")
        let reader = BusFanoutReader(url: server.url, stream: stream,
                                     options: .init(backoff: .init(initial: .milliseconds(50), maximum: .milliseconds(200))),
                                     onReconnect: { reconnects.withLock { $0 += 1 } })
        let received = Collected<StreamEntry>()
        let run = Task { await reader.run { received.append($0) } }
        try await Task.sleep(for: .milliseconds(300))
        try await server.start()
        #expect(await eventually(timeout: .seconds(10)) { reconnects.withLock { $0 } == 1 })
        let publisher = BusPublisher(url: server.url)
        #expect(await waitUntilLive(stream: stream, publisher: publisher, received: received))
        reader.stop()
        await run.value
        await publisher.shutdown()
    }

    @Test func stopCutsAReconnectBackoffShort() async throws {
        let port = try freeLocalPort()   // nothing listens here
        let reader = BusFanoutReader(url: RedisURL(host: "127.0.0.1", port: port), stream: "s",
                                     options: .init(backoff: .init(initial: .seconds(30), maximum: .seconds(30))))
        let run = Task { await reader.run { _ in } }
        try await Task.sleep(for: .milliseconds(300))   // first connect failed; now sleeping 30 s
        let clock = ContinuousClock()
        let start = clock.now
        reader.stop()
        await run.value
        #expect(clock.now - start < .seconds(1))
    }

    @Test func publisherKeepsGoingThroughAnOutageAndRecovers() async throws {
        let server = RedisServerProcess(port: try freeLocalPort())
        defer { server.kill() }
        let publisher = BusPublisher(url: server.url, backoff: .init(initial: .milliseconds(200), maximum: .milliseconds(400)))
        let stream = uniqueStream("outage")

        // Down: no throw, nil ID, counted.
        #expect(await publisher.publish(stream: stream, fields: ["n": "0"]) == nil)
        #expect(publisher.stats.failed == 1)

        // The hot path is not slowed down: during the backoff window nothing touches the network.
        let clock = ContinuousClock()
        let start = clock.now
        for n in 1...500 { await publisher.publish(stream: stream, fields: ["n": String(n)]) }
        let elapsed = clock.now - start
        #expect(elapsed < .seconds(2), "500 publishes during an outage took \(elapsed)")
        #expect(publisher.stats.skipped > 0)
        #expect(publisher.stats.published == 0)

        try await server.start()
        let recovered = await eventually(timeout: .seconds(5), poll: .milliseconds(50)) {
            await publisher.publish(stream: stream, fields: ["n": "up"]) != nil
        }
        #expect(recovered)
        #expect(publisher.stats.published == 1)
        #expect(try await redisCommand(server.url, ["XLEN", stream]) == .integer(1))

        // A restart under a live connection costs no publish: the stale socket is retried once.
        server.kill()
        try await server.start()
        #expect(await publisher.publish(stream: stream, fields: ["n": "after-restart"]) != nil)
        await publisher.shutdown()
    }

    @Test func consumerGroupRecoversAfterARestartThatLostTheGroup() async throws {
        let server = try await RedisServerProcess.start()
        defer { server.kill() }
        let stream = uniqueStream("grouprestart")
        let consumer = BusConsumerGroup(url: server.url, stream: stream, group: "g", consumer: "c")
        try await consumer.createGroup()
        #expect(try await consumer.read(blockMs: 10).isEmpty)

        server.kill()
        try await server.start()   // empty: no stream, no group

        // The owner's loop: a read error means "catch up from Postgres, then read on".
        let publisher = BusPublisher(url: server.url)
        var errors = 0
        var got: [StreamEntry] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while got.isEmpty && ContinuousClock.now < deadline {
            do {
                await publisher.publish(stream: stream, fields: ["n": "1"])
                got = try await consumer.read(blockMs: 100)
            } catch {
                errors += 1
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(errors >= 1)
        #expect(got.first?["n"] == "1")
        await consumer.close()
        await publisher.shutdown()
    }
}
