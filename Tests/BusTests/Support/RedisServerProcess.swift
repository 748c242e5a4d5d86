import TestSupport
import Bus
import Foundation
import Synchronization

/// A redis-server child process on a fixed port, which tests can kill and
/// start again on the same port.
final class RedisServerProcess: Sendable {
    let port: Int
    let extraArguments: [String]
    private let process = Mutex<Process?>(nil)

    var url: RedisURL { RedisURL(host: "127.0.0.1", port: port) }

    init(port: Int, extraArguments: [String] = []) {
        self.port = port
        self.extraArguments = extraArguments
    }

    /// Starts a server on a free port and waits until it answers PING.
    static func start(extraArguments: [String] = []) async throws -> RedisServerProcess {
        let server = RedisServerProcess(port: try freeLocalPort(), extraArguments: extraArguments)
        try await server.start()
        return server
    }

    func start() async throws {
        let child = Process()
        child.executableURL = try Self.executable()
        child.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"] + extraArguments
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        process.withLock { $0 = child }
        try await waitUntilReady()
    }

    /// SIGKILL, like a crash: no goodbye to clients.
    func kill() {
        guard let child = process.withLock({ p -> Process? in defer { p = nil }; return p }) else { return }
        if child.isRunning {
            Foundation.kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
        }
    }

    /// Also SIGKILL: the child inherits the spawning thread's signal mask, in
    /// which SIGTERM is blocked, and a test server has nothing to save anyway.
    func stop() {
        kill()
    }

    private func waitUntilReady() async throws {
        var url = self.url
        if let i = extraArguments.firstIndex(of: "--requirepass"), i + 1 < extraArguments.count {
            url.password = extraArguments[i + 1]
        }
        let probe = BlockingRedis(url: url, connectTimeout: .milliseconds(200), commandTimeout: .seconds(1))
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let reply = try? await probe.command(strings: ["PING"]), reply.string == "PONG" {
                await probe.shutdown()
                return
            }
            try? await Task.sleep(for: .milliseconds(25))
        }
        await probe.shutdown()
        throw TestSupportError("redis-server on port \(port) did not answer PING")
    }

    private static func executable() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"] {
            let candidate = URL(fileURLWithPath: dir + "/redis-server")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw TestSupportError("redis-server not found in PATH")
    }
}
