import NIOPosix

/// A `RedisConnection` with a thread of its own. hiredis calls block, and a
/// blocked call on Swift's small cooperative pool stalls unrelated tasks, so
/// every call hops to this connection's dedicated thread.
public final class BlockingRedis: Sendable {
    private let connection: RedisConnection
    private let pool: NIOThreadPool

    /// Does not connect: the first command connects on the connection's thread.
    public init(url: RedisURL, connectTimeout: Duration = .seconds(2), commandTimeout: Duration? = .seconds(5)) {
        connection = RedisConnection(url: url, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
        pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
    }

    deinit {
        // Safety net for owners that never called shutdown(); never blocks.
        connection.cancel()
        pool.shutdownGracefully { _ in }
    }

    public var url: RedisURL { connection.url }

    /// Runs `body` on the connection's thread.
    public func run<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        let connection = self.connection
        do {
            return try await pool.runIfActive { try body(connection) }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw RedisError.cancelled
        }
    }

    public func command(_ args: [[UInt8]]) async throws -> RedisReply {
        try await run { try $0.command(args) }
    }

    public func command(strings args: [String]) async throws -> RedisReply {
        try await run { try $0.command(strings: args) }
    }

    public func pipeline(_ commands: [[[UInt8]]]) async throws -> [RedisReply] {
        try await run { try $0.pipeline(commands) }
    }

    /// True if the server answers PING; for readiness checks.
    public func ping() async -> Bool {
        (try? await command(strings: ["PING"])) == .status("PONG")
    }

    /// Any thread: wakes a blocked read; the connection reconnects on next use.
    public func shutdownSocket() {
        connection.shutdownSocket()
    }

    /// Any thread: wakes a blocked read and refuses further commands.
    public func cancel() {
        connection.cancel()
    }

    /// Cancels, closes the socket on its own thread, and stops the thread.
    public func shutdown() async {
        connection.cancel()
        let connection = self.connection
        _ = try? await pool.runIfActive { connection.disconnect() }
        try? await pool.shutdownGracefully()
    }
}
