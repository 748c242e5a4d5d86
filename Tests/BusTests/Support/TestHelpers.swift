import Bus
import Foundation
import Synchronization

/// A stream name no other test (or earlier run against the same server) uses.
func uniqueStream(_ label: String) -> String {
    "test:\(label):\(UUID().uuidString.prefix(8))"
}

/// Thread-safe list that handlers append to and tests read.
final class Collected<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
    var count: Int { items.withLock { $0.count } }
}

/// Polls `condition` until true or `timeout`; returns the last result.
func eventually(timeout: Duration = .seconds(5), poll: Duration = .milliseconds(10),
                _ condition: @Sendable () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: poll)
    }
    return await condition()
}

/// Publishes probe entries until the reader delivers one, so the test knows
/// the reader is past its start and reading live.
func waitUntilLive(stream: String, publisher: BusPublisher, received: Collected<StreamEntry>,
                   timeout: Duration = .seconds(10)) async -> Bool {
    await eventually(timeout: timeout, poll: .milliseconds(50)) {
        if received.all.contains(where: { $0["probe"] != nil }) { return true }
        await publisher.publish(stream: stream, fields: ["probe": "1"])
        return false
    }
}

/// Direct Redis access for assertions.
func redisCommand(_ url: RedisURL, _ args: [String]) async throws -> RedisReply {
    let redis = BlockingRedis(url: url)
    let result = await Result(catching: { try await redis.command(strings: args) })
    await redis.shutdown()
    return try result.get()
}

func percentile(_ sorted: [Duration], _ p: Double) -> Duration {
    guard !sorted.isEmpty else { return .zero }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
