import AsyncHTTPClient
import Foundation
import Logging
import MatrixCore
import NIOCore

/// Fetches and caches `/.well-known/matrix/server` per hostname. Answers, good or bad, are
/// cached as the spec recommends; one fetch per host runs at a time.
actor WellKnownResolver {
    private struct Entry {
        var delegated: ServerName?
        var expiresMs: Int64
        /// Consecutive fetches that found the host unreachable.
        var failures: Int
    }

    private var cache: [String: Entry] = [:]
    private var inFlight: [String: Task<ServerName?, Never>] = [:]
    private let clients: HTTPClients
    private let port: Int
    private let timeout: Duration
    private let logger: Logger

    init(clients: HTTPClients, port: Int, timeout: Duration, logger: Logger) {
        self.clients = clients
        self.port = port
        self.timeout = timeout
        self.logger = logger
    }

    /// The server `hostname` delegates to, or nil when it does not (or cannot be asked).
    func delegated(_ hostname: String) async -> ServerName? {
        if let e = cache[hostname], e.expiresMs > nowMs() { return e.delegated }
        if let t = inFlight[hostname] { return await t.value }
        let task = Task { await self.refresh(hostname) }
        inFlight[hostname] = task
        let result = await task.value
        inFlight[hostname] = nil
        return result
    }

    private func refresh(_ hostname: String) async -> ServerName? {
        let previous = cache[hostname]
        let portPart = port == 443 ? "" : ":\(port)"
        var request = HTTPClientRequest(url: "https://\(hostname)\(portPart)/.well-known/matrix/server")
        request.headers.add(name: "User-Agent", value: "Myelin")
        let client = await clients.wellKnown
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds), logger: logger)
            let body = try await response.body.collect(upTo: WellKnown.largestBody)
            let delegated = WellKnown.delegatedName(status: Int(response.status.code), body: Array(body.readableBytesView))
            let ttl = delegated == nil ? WellKnown.invalidCacheMs
                : WellKnown.cacheMs(cacheControl: response.headers.first(name: "Cache-Control"))
            cache[hostname] = Entry(delegated: delegated, expiresMs: nowMs() + ttl, failures: 0)
            logger.debug("well-known of \(hostname): \(delegated?.rawValue ?? "none")")
            return delegated
        } catch {
            let failures = (previous?.failures ?? 0) + 1
            // A host that delegated before keeps its delegation through a short outage.
            let keep = previous?.delegated
            cache[hostname] = Entry(delegated: keep, expiresMs: nowMs() + WellKnown.unreachableCacheMs(failures: failures),
                                    failures: failures)
            logger.debug("well-known of \(hostname) failed: \(error)")
            return keep
        }
    }

    private func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
