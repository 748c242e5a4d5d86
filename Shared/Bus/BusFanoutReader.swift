import Logging
import Synchronization

/// Reads every new entry of one stream (plain XREAD, no consumer group), as
/// each client-api process does to wake its waiters.
///
/// It starts at the stream's tail. After a connection loss it reconnects with
/// backoff, finds the tail again, calls `onReconnect` (so the owner catches up
/// from Postgres), and only then reads on: entries added during the catch-up
/// are delivered afterwards, so nothing falls between the two.
///
/// "$" is resolved into the tail's concrete ID before reading, because reading
/// from "$" again after a BLOCK timeout would skip entries added in between.
public final class BusFanoutReader: Sendable {
    public struct Options: Sendable, Hashable {
        /// XREAD BLOCK; also bounds how long a silently dead server goes unnoticed.
        public var blockMs: Int
        /// Max entries per XREAD.
        public var count: Int
        public var backoff: BusBackoff
        public var connectTimeout: Duration
        /// After a read that returned entries, how long to wait before the next one, so that
        /// entries added in a burst are read together. Idle, an entry is read as soon as it is
        /// added; under load, reads (each a wake-up of two threads) are at most one per `gather`.
        public var gather: Duration

        public init(blockMs: Int = 5_000, count: Int = 512, backoff: BusBackoff = .init(),
                    connectTimeout: Duration = .seconds(2), gather: Duration = .zero) {
            self.blockMs = blockMs
            self.count = count
            self.backoff = backoff
            self.connectTimeout = connectTimeout
            self.gather = gather
        }
    }

    public let stream: String
    private let options: Options
    private let redis: BlockingRedis
    private let logger: Logger
    private let onReconnect: @Sendable () async -> Void
    private let stopSignal = StopSignal()
    private let started = Mutex(false)

    public init(url: RedisURL, stream: String, options: Options = .init(),
                logger: Logger = Logger(label: "myelin.bus.fanout"),
                onReconnect: @escaping @Sendable () async -> Void = {}) {
        self.stream = stream
        self.options = options
        self.logger = logger
        self.onReconnect = onReconnect
        // The receive timeout must outlast BLOCK, or it would kill a healthy idle read.
        redis = BlockingRedis(url: url, connectTimeout: options.connectTimeout,
                              commandTimeout: .milliseconds(options.blockMs) + .seconds(5))
    }

    /// Reads until `stop()` or until the calling task is cancelled, handing each
    /// entry to `handler` in stream order. The next read waits for the handler,
    /// so keep it short (wake waiters, don't do the work). A reader runs once.
    public func run(_ handler: @escaping @Sendable (StreamEntry) async -> Void) async {
        let first = started.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        guard first else {
            logger.error("BusFanoutReader.run called twice", metadata: ["stream": "\(stream)"])
            return
        }
        await withTaskCancellationHandler {
            await readLoop(handler)
        } onCancel: {
            self.stop()
        }
        await redis.shutdown()
    }

    /// Runs the reader in a task of its own and delivers entries as a stream.
    /// If the consumer falls more than `limit` entries behind, the oldest are
    /// dropped: they are wake-ups, and catch-up comes from Postgres.
    public func entries(bufferingNewest limit: Int = 10_000) -> AsyncStream<StreamEntry> {
        let (entries, continuation) = AsyncStream.makeStream(of: StreamEntry.self,
                                                            bufferingPolicy: .bufferingNewest(limit))
        let task = Task {
            await self.run { continuation.yield($0) }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return entries
    }

    /// Any thread, returns at once: wakes a blocked read or backoff sleep, and
    /// `run` returns shortly after.
    public func stop() {
        stopSignal.fire()
        redis.cancel()
    }

    private func readLoop(_ handler: @Sendable (StreamEntry) async -> Void) async {
        var failures = 0
        var needsCatchUp = false
        var lastID: String?   // nil: not connected, find the tail first

        while !stopSignal.isFired {
            do {
                let after: String
                if let lastID {
                    after = lastID
                } else {
                    after = try await findTail()
                    lastID = after
                    if needsCatchUp {
                        logger.info("bus fan-out reconnected", metadata: ["stream": "\(stream)"])
                        needsCatchUp = false
                        await onReconnect()
                    }
                }
                let args = StreamCommands.xread(stream: stream, after: after, count: options.count,
                                                blockMs: options.blockMs)
                let entries = try await redis.run { try StreamReplyParsing.readReply($0.command(strings: args)) }
                failures = 0
                for entry in entries {
                    lastID = entry.id
                    await handler(entry)
                }
                if !entries.isEmpty, options.gather > .zero { await stopSignal.sleep(for: options.gather) }
            } catch {
                if stopSignal.isFired { break }
                failures += 1
                needsCatchUp = true
                lastID = nil
                let delay = options.backoff.delay(afterFailures: failures)
                if failures == 1 {
                    logger.warning("bus fan-out read failed; reconnecting",
                                   metadata: ["stream": "\(stream)", "error": "\(error)"])
                } else {
                    logger.debug("bus fan-out reconnect failed",
                                 metadata: ["stream": "\(stream)", "error": "\(error)", "retryIn": "\(delay)"])
                }
                await stopSignal.sleep(for: delay)
            }
        }
    }

    /// The newest entry's ID, or "0-0" for an empty or missing stream (every
    /// future entry sorts after it).
    private func findTail() async throws -> String {
        let args = StreamCommands.lastEntry(stream: stream)
        return try await redis.run { connection in
            try StreamReplyParsing.entries(connection.command(strings: args)).first?.id ?? "0-0"
        }
    }
}
