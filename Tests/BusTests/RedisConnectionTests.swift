import Bus
import Testing

extension SharedRedisTests {
    @Suite struct RedisConnectionTests {
        @Test func roundTripsBinaryValues() async throws {
            let redis = BlockingRedis(url: try SharedRedis.url())
            defer { Task { await redis.shutdown() } }
            let key = Array(uniqueStream("bin").utf8)
            let value: [UInt8] = [0x00, 0x0d, 0x0a, 0xff, 0x24, 0x2a, 0x00]
            #expect(try await redis.command([Array("SET".utf8), key, value]) == .status("OK"))
            #expect(try await redis.command([Array("GET".utf8), key]) == .string(value))
            #expect(try await redis.command([Array("STRLEN".utf8), key]) == .integer(7))
        }

        @Test func returnsErrorRepliesAsValues() async throws {
            let redis = BlockingRedis(url: try SharedRedis.url())
            defer { Task { await redis.shutdown() } }
            let reply = try await redis.command(strings: ["NOSUCHCOMMAND"])
            guard case .error(let message) = reply else {
                Issue.record("expected an error reply, got \(reply)")
                return
            }
            #expect(message.hasPrefix("ERR"))
            #expect(throws: RedisError.self) { try reply.checked() }
            // The connection is still usable afterwards.
            #expect(try await redis.command(strings: ["PING"]) == .status("PONG"))
        }

        @Test func pipelineAnswersInOrder() async throws {
            let redis = BlockingRedis(url: try SharedRedis.url())
            defer { Task { await redis.shutdown() } }
            let key = uniqueStream("counter")
            let replies = try await redis.pipeline(Array(repeating: [Array("INCR".utf8), Array(key.utf8)], count: 5)
                                                   + [[Array("NOSUCHCOMMAND".utf8)], [Array("GET".utf8), Array(key.utf8)]])
            #expect(replies.prefix(5) == [.integer(1), .integer(2), .integer(3), .integer(4), .integer(5)])
            #expect(replies[5].checkedError != nil)
            #expect(replies[6] == .string(Array("5".utf8)))

            // An empty argv is answered locally and keeps its slot.
            #expect(try await redis.command([]) == .error("ERR empty command"))
            let mixed = try await redis.pipeline([[Array("PING".utf8)], [], [Array("PING".utf8)]])
            #expect(mixed == [.status("PONG"), .error("ERR empty command"), .status("PONG")])
        }

        @Test func reconnectsAfterTheServerDropsTheConnection() async throws {
            let url = try SharedRedis.url()
            let redis = BlockingRedis(url: url)
            defer { Task { await redis.shutdown() } }
            let firstID = try #require(try await redis.command(strings: ["CLIENT", "ID"]).integer)
            #expect(try await redisCommand(url, ["CLIENT", "KILL", "ID", String(firstID)]) == .integer(1))

            // The dead socket fails one command, then the connection comes back on its own.
            await #expect(throws: RedisError.self) { try await redis.command(strings: ["PING"]) }
            let secondID = try #require(try await redis.command(strings: ["CLIENT", "ID"]).integer)
            #expect(secondID != firstID)
        }

        @Test func shutdownSocketWakesABlockedRead() async throws {
            let redis = BlockingRedis(url: try SharedRedis.url(), commandTimeout: nil)
            defer { Task { await redis.shutdown() } }
            #expect(try await redis.command(strings: ["PING"]) == .status("PONG"))
            let stream = uniqueStream("wake")
            let clock = ContinuousClock()
            let start = clock.now
            let blocked = Task { try await redis.command(strings: ["XREAD", "BLOCK", "0", "STREAMS", stream, "$"]) }
            try await Task.sleep(for: .milliseconds(200))
            redis.shutdownSocket()
            let result = await blocked.result
            let elapsed = clock.now - start
            #expect(throws: RedisError.self) { try result.get() }
            #expect(elapsed < .seconds(2), "blocked read returned after \(elapsed)")
            // Not cancelled: the next command reconnects.
            #expect(try await redis.command(strings: ["PING"]) == .status("PONG"))
        }

        @Test func cancelRefusesFurtherCommands() async throws {
            let redis = BlockingRedis(url: try SharedRedis.url())
            defer { Task { await redis.shutdown() } }
            #expect(try await redis.command(strings: ["PING"]) == .status("PONG"))
            redis.cancel()
            await #expect(throws: RedisError.cancelled) { try await redis.command(strings: ["PING"]) }
        }

        /// Blocking reads sit on their own threads: eight reads blocking 500 ms at
        /// once finish together, and other tasks keep running meanwhile. On the
        /// cooperative pool (one thread per core) they would run a few at a time.
        @Test func blockingReadsDoNotStarveTheCooperativePool() async throws {
            let url = try SharedRedis.url()
            let readers = (0..<8).map { _ in BlockingRedis(url: url, commandTimeout: nil) }
            defer { for r in readers { Task { await r.shutdown() } } }
            for r in readers { _ = try await r.command(strings: ["PING"]) }

            let clock = ContinuousClock()
            let start = clock.now
            let stream = uniqueStream("starve")
            async let all: Void = withThrowingTaskGroup(of: Void.self) { group in
                for r in readers {
                    group.addTask { _ = try await r.command(strings: ["XREAD", "BLOCK", "500", "STREAMS", stream, "$"]) }
                }
                try await group.waitForAll()
            }
            try await Task.sleep(for: .milliseconds(50))
            let probe = await Task { clock.now }.value
            try await all
            let total = clock.now - start
            #expect(probe - start < .milliseconds(400), "a plain task waited \(probe - start)")
            #expect(total < .milliseconds(1_500), "8 parallel 500 ms reads took \(total)")
            #expect(total >= .milliseconds(450))
        }
    }
}

extension RedisReply {
    var checkedError: RedisError? {
        do { try checked(); return nil } catch { return error }
    }
}
