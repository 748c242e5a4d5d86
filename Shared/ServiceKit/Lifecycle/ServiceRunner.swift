import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the HTTP application around a route table and runs it with its dependencies in one
/// service group. Dependencies come first: on SIGTERM the group stops them in reverse order, so
/// the server drains in-flight requests before the database pool closes.
public enum ServiceRunner {
    public static func run(
        config: ServerConfig, responder: MatrixResponder, dependencies: [any Service], logger: Logger,
        beforeStart: (@Sendable () async throws -> Void)? = nil, onReady: (@Sendable (Int) async -> Void)? = nil,
        onDrain: (@Sendable () async -> Void)? = nil
    ) async throws {
        MetricsSetup.bootstrap()
        var app = Application(
            responder: responder,
            configuration: .init(address: .hostname(config.listenHost, port: config.listenPort), serverName: "Myelin"),
            onServerRunning: { ch in
                let port = ch.localAddress?.port ?? 0
                logger.notice("listening on \(config.listenHost):\(port)")
                await onReady?(port)
            },
            logger: logger)
        if let beforeStart { app.beforeServerStarts(perform: beforeStart) }
        var cfg = ServiceGroupConfiguration(
            // The drain hook comes last so it is told first on SIGTERM: long-polls return at once
            // and the server drains quickly, then the dependencies stop.
            services: dependencies.map { .init(service: $0) } + [.init(service: app), .init(service: DrainHook(onDrain: onDrain))],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        cfg.maximumGracefulShutdownDuration = .seconds(30)
        cfg.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: cfg).run()
    }

    /// Health and readiness routes every service answers.
    public static func healthRoutes(ready: @escaping @Sendable () async -> Bool) -> RouteTable {
        var t = RouteTable()
        t.get("/health", access: .open) { _ in .json(["status": "ok"]) }
        t.get("/metrics", access: .open) { _ in
            .init(bytes: MetricsSetup.render(), contentType: "text/plain; version=0.0.4")
        }
        t.get("/ready", access: .open) { _ in
            await ready() ? .json(["status": "ready"]) : .json(MatrixError(.serviceUnavailable, "M_UNKNOWN", "not ready").body, status: .serviceUnavailable)
        }
        return t
    }
}

/// Waits for graceful shutdown, then runs the drain hook.
struct DrainHook: Service {
    let onDrain: (@Sendable () async -> Void)?
    func run() async throws {
        do { try await gracefulShutdown() } catch is CancellationError { return }
        await onDrain?()
    }
}

/// Wraps an async closure as a service (background loops such as the bus reader).
public struct ClosureService: Service {
    let body: @Sendable () async throws -> Void
    public init(_ body: @escaping @Sendable () async throws -> Void) { self.body = body }
    public func run() async throws {
        do { try await cancelWhenGracefulShutdown { try await body() } } catch is CancellationError {}
    }
}
