import Logging

/// One consumer in a Redis consumer group: each entry goes to one consumer of
/// the group, stays pending until acked, and can be claimed by another
/// consumer if its owner dies.
///
/// Two connections, each on its own thread: `reader` only does the blocking
/// XREADGROUP, `control` does everything else, so acks and claims never wait
/// behind a blocked read.
public final class BusConsumerGroup: Sendable {
    public let stream: String
    public let group: String
    public let consumer: String
    private let reader: BlockingRedis
    private let control: BlockingRedis
    private let logger: Logger

    public init(url: RedisURL, stream: String, group: String, consumer: String,
                connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(5),
                logger: Logger = Logger(label: "myelin.bus.group")) {
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.logger = logger
        // No receive timeout on the reader: it would kill the connection during a long BLOCK.
        reader = BlockingRedis(url: url, connectTimeout: connectTimeout, commandTimeout: nil)
        control = BlockingRedis(url: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
    }

    /// Creates the group (and the stream if missing). An existing group is fine.
    /// `startID` "$" delivers only entries added from now on, "0" the whole stream.
    public func createGroup(startingAt startID: String = "$") async throws {
        let reply = try await control.command(strings: StreamCommands.xgroupCreate(
            stream: stream, group: group, startID: startID))
        do {
            try reply.checked()
        } catch where error.isServerError("BUSYGROUP") {
            return
        }
    }

    /// New entries for this consumer, waiting up to `blockMs` for some. Empty on timeout.
    ///
    /// Cancelling the calling task wakes the blocked read. If the group has
    /// vanished (Redis restarted empty), it is recreated and the `NOGROUP`
    /// error still thrown, so the owner treats it like any read error: catch up
    /// from Postgres, then read on.
    public func read(count: Int = 100, blockMs: Int = 1_000) async throws -> [StreamEntry] {
        let args = StreamCommands.xreadgroup(stream: stream, group: group, consumer: consumer,
                                             id: ">", count: count, blockMs: blockMs)
        let reader = self.reader
        do {
            let reply = try await withTaskCancellationHandler {
                try await reader.command(strings: args)
            } onCancel: {
                reader.shutdownSocket()
            }
            try Task.checkCancellation()
            return try StreamReplyParsing.readReply(reply)
        } catch where Task.isCancelled {
            throw CancellationError()
        } catch let error as RedisError where error.isServerError("NOGROUP") {
            logger.warning("bus consumer group missing; recreating it",
                           metadata: ["stream": "\(stream)", "group": "\(group)"])
            try? await createGroup()
            throw error
        }
    }

    /// Entries delivered to this consumer earlier and not yet acked (for example
    /// before a restart). Entries trimmed meanwhile come back with no fields.
    public func readPending(count: Int = 100) async throws -> [StreamEntry] {
        let args = StreamCommands.xreadgroup(stream: stream, group: group, consumer: consumer,
                                             id: "0", count: count, blockMs: nil)
        return try StreamReplyParsing.readReply(await control.command(strings: args))
    }

    /// Marks entries done. Returns how many were pending.
    @discardableResult
    public func ack(_ ids: [String]) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let reply = try await control.command(strings: StreamCommands.xack(stream: stream, group: group, ids: ids))
        guard let acked = try reply.checked().integer else {
            throw RedisError.unexpectedReply("XACK: \(reply)")
        }
        return Int(acked)
    }

    /// Takes over entries another consumer has held un-acked for at least
    /// `minIdle`. Call repeatedly with `nextStart` until it is "0-0".
    public func autoclaim(minIdle: Duration, start: String = "0-0", count: Int = 100) async throws -> BusAutoclaimResult {
        let idleMs = Int(minIdle.components.seconds * 1_000 + minIdle.components.attoseconds / 1_000_000_000_000_000)
        let args = StreamCommands.xautoclaim(stream: stream, group: group, consumer: consumer,
                                             minIdleMs: idleMs, start: start, count: count)
        return try StreamReplyParsing.autoclaimReply(await control.command(strings: args))
    }

    /// How many entries of the group are delivered but not acked, over all consumers.
    public func pendingCount() async throws -> Int {
        let reply = try await control.command(strings: ["XPENDING", stream, group])
        guard let count = try reply.checked().array?.first?.integer else {
            throw RedisError.unexpectedReply("XPENDING: \(reply)")
        }
        return Int(count)
    }

    /// Wakes a blocked read and closes both connections. Idempotent.
    public func close() async {
        reader.cancel()
        await reader.shutdown()
        await control.shutdown()
    }
}
