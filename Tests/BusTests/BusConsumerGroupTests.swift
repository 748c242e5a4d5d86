import Bus
import Testing

extension SharedRedisTests {
    @Suite struct BusConsumerGroupTests {
        private func makeGroup(_ url: RedisURL, _ stream: String, _ consumer: String,
                               group: String = "senders") -> BusConsumerGroup {
            BusConsumerGroup(url: url, stream: stream, group: group, consumer: consumer)
        }

        private func publish(_ url: RedisURL, _ stream: String, count: Int) async -> [String] {
            let publisher = BusPublisher(url: url)
            let ids = await publisher.publish(batch: (0..<count).map { BusMessage(stream: stream, fields: ["n": String($0)]) })
            await publisher.shutdown()
            return ids.compactMap { $0 }
        }

        @Test func createGroupTwiceIsFine() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("create")
            let group = makeGroup(url, stream, "c1")
            try await group.createGroup()
            try await group.createGroup()   // BUSYGROUP is ignored
            let groups = try #require(try await redisCommand(url, ["XINFO", "GROUPS", stream]).array)
            #expect(groups.count == 1)
            await group.close()
        }

        @Test func eachEntryGoesToExactlyOneConsumer() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("once")
            let a = makeGroup(url, stream, "a"), b = makeGroup(url, stream, "b")
            try await a.createGroup()
            let published = await publish(url, stream, count: 40)
            #expect(published.count == 40)

            var gotA: [String] = [], gotB: [String] = []
            while gotA.count + gotB.count < 40 {
                let fromA = try await a.read(count: 5, blockMs: 100)
                let fromB = try await b.read(count: 5, blockMs: 100)
                if fromA.isEmpty && fromB.isEmpty { break }
                gotA += fromA.map(\.id)
                gotB += fromB.map(\.id)
            }
            #expect(!gotA.isEmpty && !gotB.isEmpty)
            #expect(Set(gotA).isDisjoint(with: gotB))
            #expect((gotA + gotB).sorted() == published.sorted())
            #expect(try await a.pendingCount() == 40)

            #expect(try await a.ack(gotA) == gotA.count)
            #expect(try await b.ack(gotB) == gotB.count)
            #expect(try await a.pendingCount() == 0)
            // Nothing is redelivered once acked.
            #expect(try await a.read(count: 100, blockMs: 50).isEmpty)
            await a.close()
            await b.close()
        }

        @Test func autoclaimRescuesEntriesOfADeadConsumer() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("claim")
            let dead = makeGroup(url, stream, "dead"), rescuer = makeGroup(url, stream, "rescuer")
            try await dead.createGroup()
            let published = await publish(url, stream, count: 5)
            let taken = try await dead.read(count: 10, blockMs: 100)
            #expect(taken.map(\.id) == published)
            await dead.close()   // dies without acking

            // Too fresh to claim yet.
            #expect(try await rescuer.autoclaim(minIdle: .seconds(60)).entries.isEmpty)
            try await Task.sleep(for: .milliseconds(150))
            let claimed = try await rescuer.autoclaim(minIdle: .milliseconds(100))
            #expect(claimed.entries.map(\.id) == published)
            #expect(claimed.entries.map { $0["n"] } == ["0", "1", "2", "3", "4"])
            #expect(claimed.nextStart == "0-0")
            #expect(claimed.deletedIDs.isEmpty)

            #expect(try await rescuer.ack(claimed.entries.map(\.id)) == 5)
            #expect(try await rescuer.pendingCount() == 0)
            await rescuer.close()
        }

        @Test func autoclaimReportsEntriesDeletedWhilePending() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("claimdel")
            let dead = makeGroup(url, stream, "dead"), rescuer = makeGroup(url, stream, "rescuer")
            try await dead.createGroup()
            let published = await publish(url, stream, count: 3)
            _ = try await dead.read(count: 10, blockMs: 100)
            #expect(try await redisCommand(url, ["XDEL", stream, published[1]]) == .integer(1))

            let claimed = try await rescuer.autoclaim(minIdle: .zero)
            #expect(claimed.entries.map(\.id) == [published[0], published[2]])
            #expect(claimed.deletedIDs == [published[1]])
            await dead.close()
            await rescuer.close()
        }

        @Test func readPendingReturnsUnackedEntriesAfterARestart() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("pending")
            let before = makeGroup(url, stream, "sender-1")
            try await before.createGroup()
            let published = await publish(url, stream, count: 3)
            #expect(try await before.read(count: 10, blockMs: 100).map(\.id) == published)
            await before.close()

            let after = makeGroup(url, stream, "sender-1")
            let pending = try await after.readPending()
            #expect(pending.map(\.id) == published)
            #expect(pending.map { $0["n"] } == ["0", "1", "2"])
            try await after.ack(pending.map(\.id))
            #expect(try await after.readPending().isEmpty)
            await after.close()
        }

        @Test func aVanishedGroupIsRecreated() async throws {
            let url = try SharedRedis.url()
            let stream = uniqueStream("nogroup")
            let consumer = makeGroup(url, stream, "c")
            try await consumer.createGroup()
            #expect(try await redisCommand(url, ["XGROUP", "DESTROY", stream, "senders"]) == .integer(1))

            await #expect { try await consumer.read(blockMs: 50) } throws: {
                ($0 as? RedisError)?.isServerError("NOGROUP") == true
            }
            let published = await publish(url, stream, count: 1)
            #expect(try await consumer.read(blockMs: 1_000).map(\.id) == published)
            await consumer.close()
        }

        @Test func closeWakesABlockedRead() async throws {
            let url = try SharedRedis.url()
            let consumer = makeGroup(url, uniqueStream("close"), "c")
            try await consumer.createGroup()
            let read = Task { try await consumer.read(blockMs: 60_000) }
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let start = clock.now
            await consumer.close()
            let result = await read.result
            #expect(throws: (any Error).self) { try result.get() }
            #expect(clock.now - start < .seconds(1))
        }

        @Test func cancellingABlockedReadThrowsCancellation() async throws {
            let url = try SharedRedis.url()
            let consumer = makeGroup(url, uniqueStream("cancelread"), "c")
            try await consumer.createGroup()
            let read = Task { try await consumer.read(blockMs: 60_000) }
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let start = clock.now
            read.cancel()
            let result = await read.result
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(clock.now - start < .seconds(1))
            // The consumer is still usable: the reader reconnects.
            let published = await publish(url, consumer.stream, count: 1)
            #expect(try await consumer.read(blockMs: 1_000).map(\.id) == published)
            await consumer.close()
        }
    }
}
