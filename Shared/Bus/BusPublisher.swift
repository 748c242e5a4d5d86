import Logging
import Synchronization

/// Appends entries to bus streams with `XADD … MAXLEN ~ N`.
///
/// Publishing never throws: Postgres is the truth and consumers catch up from
/// it, so a Redis outage must not fail the write path. Failures are logged and
/// counted. While Redis is down, publishes within the reconnect backoff window
/// are skipped without touching the network, so callers are not slowed down by
/// connect timeouts.
public final class BusPublisher: Sendable {
    public struct Stats: Sendable, Hashable {
        /// Entries Redis accepted.
        public var published = 0
        /// Entries attempted but not accepted (connection lost, error reply).
        public var failed = 0
        /// Entries not attempted because Redis was known to be down.
        public var skipped = 0

        public init(published: Int = 0, failed: Int = 0, skipped: Int = 0) {
            self.published = published
            self.failed = failed
            self.skipped = skipped
        }
    }

    public let maxLength: Int
    private let redis: BlockingRedis
    private let backoff: BusBackoff
    private let logger: Logger
    /// Outage state; only touched on the connection's thread.
    private let outage = Mutex(Outage())
    private let counters = Mutex(Stats())

    private struct Outage {
        var failures = 0
        var retryAt: ContinuousClock.Instant?
    }

    private enum Outcome: Sendable {
        case sent([RedisReply], recoveredAfter: Int)
        case skipped
        case failed(any Error, firstFailure: Bool)
    }

    public init(url: RedisURL, maxLength: Int = 100_000, backoff: BusBackoff = .init(),
                connectTimeout: Duration = .seconds(1), commandTimeout: Duration = .seconds(2),
                logger: Logger = Logger(label: "myelin.bus.publisher")) {
        self.maxLength = maxLength
        self.backoff = backoff
        self.logger = logger
        redis = BlockingRedis(url: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
    }

    public var stats: Stats { counters.withLock { $0 } }

    /// Returns the new entry ID, or nil if the entry was not published.
    @discardableResult
    public func publish(stream: String, fields: [String: String]) async -> String? {
        await publish(BusMessage(stream: stream, fields: fields))
    }

    @discardableResult
    public func publish(_ message: BusMessage) async -> String? {
        await publish(batch: [message])[0]
    }

    /// Pipelines the batch in one round trip. Returns one ID (or nil) per message, in order.
    @discardableResult
    public func publish(batch messages: [BusMessage]) async -> [String?] {
        guard !messages.isEmpty else { return [] }
        let commands = messages.map { StreamCommands.xadd($0, maxLength: maxLength) }
        let outcome: Outcome
        do {
            outcome = try await redis.run { [self] connection in sendUnlessDown(commands, on: connection) }
        } catch {
            outcome = .failed(error, firstFailure: false)   // thread gone: we are shutting down
        }
        return record(outcome, count: messages.count)
    }

    /// Closes the connection and stops its thread. Later publishes are counted as failed.
    public func shutdown() async {
        await redis.shutdown()
    }

    // Runs on the connection's thread.
    private func sendUnlessDown(_ commands: [[[UInt8]]], on connection: RedisConnection) -> Outcome {
        let now = ContinuousClock.now
        if let retryAt = outage.withLock({ $0.retryAt }), now < retryAt { return .skipped }
        do {
            let replies: [RedisReply]
            let wasConnected = connection.isConnected
            do {
                replies = try connection.pipeline(commands)
            } catch RedisError.connectionLost where wasConnected {
                // A connection that went stale (e.g. Redis restarted) fails its first
                // write; retry once on a fresh one. A rare duplicate is a harmless wake-up.
                replies = try connection.pipeline(commands)
            }
            let recovered = outage.withLock { o -> Int in
                defer { o = Outage() }
                return o.failures
            }
            return .sent(replies, recoveredAfter: recovered)
        } catch {
            let failures = outage.withLock { o -> Int in
                o.failures += 1
                o.retryAt = now + backoff.delay(afterFailures: o.failures)
                return o.failures
            }
            return .failed(error, firstFailure: failures == 1)
        }
    }

    private func record(_ outcome: Outcome, count: Int) -> [String?] {
        switch outcome {
        case .skipped:
            counters.withLock { $0.skipped += count }
            return Array(repeating: nil, count: count)

        case .failed(let error, let firstFailure):
            counters.withLock { $0.failed += count }
            if firstFailure {
                logger.warning("bus publish failing; consumers will catch up from Postgres",
                               metadata: ["error": "\(error)", "redis": "\(redis.url)"])
            } else {
                logger.debug("bus publish failed", metadata: ["error": "\(error)"])
            }
            return Array(repeating: nil, count: count)

        case .sent(let replies, let recoveredAfter):
            if recoveredAfter > 0 {
                logger.info("bus publish recovered", metadata: ["failedAttempts": "\(recoveredAfter)"])
            }
            var ids: [String?] = []
            ids.reserveCapacity(replies.count)
            var rejected = 0
            for reply in replies {
                if case .error(let message) = reply {
                    rejected += 1
                    logger.error("bus publish rejected", metadata: ["error": "\(message)"])
                    ids.append(nil)
                } else {
                    ids.append(reply.string)
                }
            }
            counters.withLock {
                $0.published += replies.count - rejected
                $0.failed += rejected
            }
            return ids
        }
    }
}
