import CHiredis
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking hiredis connection.
///
/// Thread-confined: every method except `shutdownSocket()` and `cancel()` must
/// be called from one thread at a time (`BlockingRedis` gives each connection
/// its own thread). It connects lazily, and after an I/O error it drops the
/// context so the next command reconnects.
public final class RedisConnection: @unchecked Sendable {
    public let url: RedisURL
    public let connectTimeout: Duration
    /// Socket send/receive timeout. Must be longer than any `BLOCK` issued on
    /// this connection: an expiring receive timeout kills the context.
    public let commandTimeout: Duration?

    private var context: UnsafeMutablePointer<redisContext>?
    /// The socket as seen from other threads, so they can wake a blocked read.
    private let socket = Mutex(SocketState())

    private struct SocketState {
        var fd: Int32 = -1
        var cancelled = false
    }

    public init(url: RedisURL, connectTimeout: Duration = .seconds(2), commandTimeout: Duration? = .seconds(5)) {
        self.url = url
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }

    deinit {
        if let context { redisFree(context) }
    }

    public var isConnected: Bool { context != nil }

    /// Connects (plus AUTH and SELECT) unless already connected.
    public func connect() throws {
        _ = try connectedContext()
    }

    /// Closes the socket; the next command reconnects.
    public func disconnect() {
        guard let ctx = context else { return }
        // Forget the fd first so shutdownSocket() never touches a closed or reused fd.
        socket.withLock { $0.fd = -1 }
        context = nil
        redisFree(ctx)
    }

    /// Any thread: shuts the socket down so a read blocked on it returns at once
    /// with an error. The connection reconnects on its next command.
    public func shutdownSocket() {
        socket.withLock { state in
            if state.fd >= 0 { _ = shutdown(state.fd, Int32(SHUT_RDWR)) }
        }
    }

    /// Any thread: like `shutdownSocket()`, and every later command fails with
    /// `RedisError.cancelled` instead of reconnecting.
    public func cancel() {
        socket.withLock { state in
            state.cancelled = true
            if state.fd >= 0 { _ = shutdown(state.fd, Int32(SHUT_RDWR)) }
        }
    }

    public var isCancelled: Bool { socket.withLock { $0.cancelled } }

    /// Sends one command and waits for its reply. Error replies are returned as
    /// `.error`, not thrown; only connection failures throw.
    public func command(_ args: [[UInt8]]) throws -> RedisReply {
        if args.isEmpty { return Self.emptyCommand }
        let ctx = try connectedContext()
        let raw = RedisArgv.with(args) { redisCommandArgv(ctx, $0, $1, $2) }
        guard let raw else { throw connectionFailed(ctx) }
        defer { freeReplyObject(raw) }
        return RedisReply(hiredis: raw.assumingMemoryBound(to: redisReply.self))
    }

    public func command(strings args: [String]) throws -> RedisReply {
        try command(RedisArgv.strings(args))
    }

    /// Writes all commands, then reads all replies: one round trip for the batch.
    public func pipeline(_ commands: [[[UInt8]]]) throws -> [RedisReply] {
        guard commands.contains(where: { !$0.isEmpty }) else { return commands.map { _ in Self.emptyCommand } }
        let ctx = try connectedContext()
        for args in commands where !args.isEmpty {
            let status = RedisArgv.with(args) { redisAppendCommandArgv(ctx, $0, $1, $2) }
            guard status == REDIS_OK else { throw connectionFailed(ctx) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for args in commands {
            if args.isEmpty {
                replies.append(Self.emptyCommand)
                continue
            }
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(ctx, &raw) == REDIS_OK, let raw else { throw connectionFailed(ctx) }
            replies.append(RedisReply(hiredis: raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        return replies
    }

    /// An empty argv is never sent; it answers like the server would.
    private static let emptyCommand = RedisReply.error("ERR empty command")

    // MARK: - Connecting

    private func connectedContext() throws -> UnsafeMutablePointer<redisContext> {
        if let context { return context }
        if isCancelled { throw RedisError.cancelled }

        guard let ctx = redisConnectWithTimeout(url.host, Int32(url.port), Self.makeTimeval(connectTimeout)) else {
            throw RedisError.connectFailed("cannot allocate context")
        }
        if ctx.pointee.err != 0 {
            let message = Self.errorString(ctx)
            redisFree(ctx)
            throw RedisError.connectFailed(message)
        }
        let cancelledMeanwhile = socket.withLock { state -> Bool in
            if state.cancelled { return true }
            state.fd = ctx.pointee.fd
            return false
        }
        if cancelledMeanwhile {
            redisFree(ctx)
            throw RedisError.cancelled
        }
        context = ctx
        BrokenPipeSignal.suppress(onSocket: ctx.pointee.fd)
        if let commandTimeout { _ = redisSetTimeout(ctx, Self.makeTimeval(commandTimeout)) }
        // Keepalive notices a peer that vanished without a reset while we sit in BLOCK.
        _ = redisEnableKeepAlive(ctx)

        do {
            try handshake()
        } catch {
            disconnect()
            throw error
        }
        return ctx
    }

    private func handshake() throws {
        if let password = url.password {
            let args = url.username.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            if case .error(let message) = try command(strings: args) {
                throw RedisError.connectFailed("AUTH: \(message)")
            }
        }
        if url.database != 0 {
            if case .error(let message) = try command(strings: ["SELECT", String(url.database)]) {
                throw RedisError.connectFailed("SELECT: \(message)")
            }
        }
    }

    /// Reads the context's error, then drops the dead context.
    private func connectionFailed(_ ctx: UnsafeMutablePointer<redisContext>) -> RedisError {
        let message = Self.errorString(ctx)
        disconnect()
        return isCancelled ? .cancelled : .connectionLost(message)
    }

    private static func errorString(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "error \(ctx.pointee.err)" : String(decoding: bytes, as: UTF8.self)
        }
    }

    private static func makeTimeval(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        return timeval(tv_sec: .init(seconds), tv_usec: .init(attoseconds / 1_000_000_000_000))
    }
}
