import TestSupport
import Bus
import Foundation
import Testing

/// The Redis the shared-server suites use: `MYELIN_TEST_REDIS_URL` if set,
/// otherwise a redis-server started for the suite and stopped after it.
enum SharedRedis {
    @TaskLocal static var current: RedisURL?

    static func url() throws -> RedisURL {
        guard let current else { throw TestSupportError("no shared Redis in scope; use the .sharedRedis trait") }
        return current
    }
}

struct SharedRedisTrait: SuiteTrait, TestScoping {
    func provideScope(for test: Test, testCase: Test.Case?,
                      performing function: @Sendable () async throws -> Void) async throws {
        if let given = ProcessInfo.processInfo.environment["MYELIN_TEST_REDIS_URL"], !given.isEmpty {
            try await SharedRedis.$current.withValue(RedisURL(given)) { try await function() }
            return
        }
        let server = try await RedisServerProcess.start()
        defer { server.stop() }
        try await SharedRedis.$current.withValue(server.url) { try await function() }
    }
}

extension Trait where Self == SharedRedisTrait {
    static var sharedRedis: Self { Self() }
}

/// Parent of every suite that uses the shared server. Serialized, because the
/// timing-sensitive tests are easier to trust without neighbours.
@Suite(.serialized, .sharedRedis)
struct SharedRedisTests {}
