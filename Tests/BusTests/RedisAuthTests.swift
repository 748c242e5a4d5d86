import Bus
import Testing

/// Needs a server with a password, so it runs its own.
@Suite struct RedisAuthTests {
    @Test func authenticatesAndSelectsTheDatabase() async throws {
        let server = try await RedisServerProcess.start(extraArguments: ["--requirepass", "s3 cret"])
        defer { server.kill() }
        let url = try RedisURL("redis://:s3%20cret@127.0.0.1:\(server.port)/5")
        let redis = BlockingRedis(url: url)
        #expect(await redis.ping())
        #expect(try await redis.command(strings: ["SET", "k", "v"]) == .status("OK"))
        #expect(try await redis.command(strings: ["CLIENT", "INFO"]).string?.contains(" db=5 ") == true)
        await redis.shutdown()

        let wrong = BlockingRedis(url: RedisURL(host: "127.0.0.1", port: server.port, password: "nope"))
        await #expect { try await wrong.command(strings: ["PING"]) } throws: {
            if case .connectFailed(let message) = $0 as? RedisError { return message.hasPrefix("AUTH") }
            return false
        }
        #expect(await !wrong.ping())
        await wrong.shutdown()
    }
}
