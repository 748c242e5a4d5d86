import FederationClient
import MatrixCore
import Synchronization

/// A server whose signed request reached us is up. Tell this process's federation client
/// (its requests there stop backing off) and the federation sender, through Redis (that
/// destination's queue retries at once, as Synapse does when a server it gave up on
/// talks to it). At most once per server per `interval`: a busy peer sends many requests,
/// and a pause after a failure is never much shorter than this anyway.
final class PeerLiveness: Sendable {
    private let lastTold = Mutex<[String: ContinuousClock.Instant]>([:])
    private let interval: Duration
    private let federation: FederationClient
    private let publisher: BusBridge

    init(federation: FederationClient, publisher: BusBridge, interval: Duration = .seconds(2)) {
        self.federation = federation
        self.publisher = publisher
        self.interval = interval
    }

    func heardFrom(_ origin: ServerName) {
        let now = ContinuousClock.now
        let due = lastTold.withLock { seen -> Bool in
            if let last = seen[origin.rawValue], now - last < interval { return false }
            // Bounded: forget everyone now and then rather than grow with every peer ever seen.
            if seen.count > 10_000 { seen.removeAll() }
            seen[origin.rawValue] = now
            return true
        }
        guard due else { return }
        publisher.publishPeerUp(origin.rawValue, us: federation.origin.rawValue)
        let federation = self.federation
        Task { await federation.peerIsUp(origin) }
    }
}
