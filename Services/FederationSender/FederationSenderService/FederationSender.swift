import Bus
import FederationClient
import Foundation
import Logging
import MatrixCore
import Storage

/// `myelin-federation-sender`: sends our users' events and ephemeral updates to the other
/// servers in their rooms. Redis (`myelin:events`, `myelin:edus`, read with a consumer
/// group) says when and where there is work; Postgres says what: each destination sends
/// what follows its stored position, so lost stream entries only delay delivery until the
/// next catch-up round.
public final class FederationSender: Sendable {
    /// The consumer group carries the server name, so servers sharing a Redis (tests) each
    /// see every entry.
    public var consumerGroup: String { "myelin-federation-sender:\(context.us.rawValue)" }

    private let redisURL: RedisURL
    private let context: SenderContext
    private let registry: DestinationRegistry
    private let logger: Logger

    public init(db: Database, federation: FederationClient, redisURL: String, config: SenderConfig, logger: Logger) throws {
        self.redisURL = try RedisURL(redisURL)
        self.logger = logger
        let holder = config.instanceName.map { "\($0):\(UUID().uuidString.prefix(8))" }
            ?? "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))"
        context = SenderContext(us: federation.origin, outbox: FederationOutboxStore(db: db),
                                durableEDUs: FederationOutboundEDUStore(db: db), leases: LeaseStore(db: db),
                                federation: federation, holder: holder, config: config, logger: logger, startedMs: nowMillis())
        registry = DestinationRegistry(context: context)
    }

    /// Runs until cancelled (graceful shutdown), then stops every queue and gives up its leases.
    public func run() async {
        logger.info("federation sender \(context.holder) starting")
        if let instance = context.config.instanceName {
            // Leases of this instance's previous run are ours: it is dead, as no two running
            // senders share an instance name. Without this, a killed sender's destinations
            // would wait out its leases.
            do {
                let taken = try await context.leases.releaseAll(heldByPrefix: "\(instance):", except: context.holder)
                if taken > 0 { logger.info("federation sender: took over \(taken) leases of the previous \(instance)") }
            } catch {
                logger.warning("federation sender: leases of the previous \(instance) unknown: \(error)")
            }
        }
        await withDiscardingTaskGroup { g in
            g.addTask { await self.read(BusStream.events) { await self.routeEvents($0) } }
            g.addTask { await self.read(BusStream.edus) { await self.routeEDUs($0) } }
            g.addTask { await self.catchUpRounds() }
        }
        await registry.stopAll()
        logger.info("federation sender stopped")
    }

    /// After a read that brought entries, the wait before the next: under load, at most this
    /// much later than alone, and one read, route and ack for all the commits in between.
    static let gather = Duration.milliseconds(10)

    /// Reads one stream with the consumer group, handing entries to `route` and acking
    /// them. Entries another (dead) consumer left pending are claimed now and then.
    private func read(_ stream: String, route: @escaping @Sendable ([StreamEntry]) async -> Void) async {
        let group = BusConsumerGroup(url: redisURL, stream: stream, group: consumerGroup, consumer: context.holder, logger: logger)
        var lastClaim = ContinuousClock.now
        while !Task.isCancelled {
            do {
                try await group.createGroup(startingAt: "$")
                while !Task.isCancelled {
                    let entries = try await group.read(count: 200, blockMs: 5_000)
                    if !entries.isEmpty {
                        await route(entries)
                        try await group.ack(entries.map(\.id))
                        // A burst of events is read, routed (a query per room) and acked together.
                        try await Task.sleep(for: Self.gather)
                    }
                    if ContinuousClock.now - lastClaim > .seconds(60) {
                        lastClaim = ContinuousClock.now
                        try await claimAbandoned(group, route)
                    }
                }
            } catch where Task.isCancelled {
                break
            } catch {
                logger.warning("federation sender: reading \(stream) failed; catching up from Postgres: \(error)")
                await catchUp()
                try? await Task.sleep(for: .seconds(2))
            }
        }
        await group.close()
    }

    private func claimAbandoned(_ group: BusConsumerGroup, _ route: @Sendable ([StreamEntry]) async -> Void) async throws {
        var start = "0-0"
        repeat {
            let claimed = try await group.autoclaim(minIdle: .seconds(60), start: start)
            let live = claimed.entries.filter { !$0.rawFields.isEmpty }
            if !live.isEmpty { await route(live) }
            try await group.ack(claimed.entries.map(\.id))
            start = claimed.nextStart
        } while start != "0-0" && !Task.isCancelled
    }

    /// An event of one of our users goes to the servers in its room, and so may another
    /// server's membership change we took in; any membership change also wakes the
    /// member's server (a server that just joined gets a queue).
    private func routeEvents(_ entries: [StreamEntry]) async {
        let us = context.us.rawValue
        var wake = Set<String>()
        // Each room's servers are read once per batch of entries, however many events it got.
        var rooms: [String] = []
        var seen = Set<String>()
        for e in entries {
            guard let room = e["room_id"] else { continue }
            if e["type"] == "m.room.member", let target = e["state_key"].flatMap(UserID.init) { wake.insert(target.server.rawValue) }
            guard let sender = e["sender"].flatMap(UserID.init), sender.server == context.us || e["type"] == "m.room.member" else {
                continue
            }
            if seen.insert(room).inserted { rooms.append(room) }
        }
        for room in rooms {
            do {
                wake.formUnion(try await context.outbox.joinedServers(room, excluding: us))
            } catch {
                logger.warning("federation sender: servers of \(room) unknown: \(error)")
            }
        }
        wake.remove(us)
        await registry.wake(Array(wake))
    }

    private func routeEDUs(_ entries: [StreamEntry]) async {
        for e in entries {
            if e["kind"] == OutboundEDU.peerUpKind {
                // Servers sharing a Redis (tests) each hear only what reached them.
                guard e["server_name"] == context.us.rawValue, let peer = e["destination"].flatMap(ServerName.init),
                      peer != context.us else { continue }
                await context.federation.peerIsUp(peer)
                await registry.peerIsUp(peer.rawValue)
                continue
            }
            guard e["user_id"].flatMap(UserID.init)?.server == context.us else { continue }
            if let (destination, edu) = OutboundEDU.direct(e) {
                await keep(edu, for: [destination])
                continue
            }
            if let (user, edu) = OutboundEDU.userWide(e) {
                do {
                    await keep(edu, for: try await context.outbox.serversSharingRoom(with: user, excluding: context.us.rawValue))
                } catch {
                    logger.warning("federation sender: servers sharing a room with \(user) unknown: \(error)")
                }
                continue
            }
            guard let (room, edu) = OutboundEDU.make(e) else { continue }
            do {
                let servers = try await context.outbox.joinedServers(room, excluding: context.us.rawValue)
                await registry.enqueue(edu, to: servers)
            } catch {
                logger.warning("federation sender: servers of \(room) unknown: \(error)")
            }
        }
    }

    /// An EDU that must not be lost goes to Postgres before its stream entry is acked, so a
    /// sender killed before delivering it leaves it to the next; if Postgres fails, memory.
    private func keep(_ edu: JSON, for destinations: [String]) async {
        let targets = destinations.filter { $0 != context.us.rawValue && ServerName($0) != nil }
        do {
            try await context.durableEDUs.add(edu, to: targets)
            await registry.wake(targets)
        } catch {
            logger.warning("federation sender: could not keep an EDU in Postgres; holding it in memory: \(error)")
            await registry.enqueue(edu, to: targets)
        }
    }

    /// Every destination looks at Postgres, now and then every catch-up interval.
    private func catchUpRounds() async {
        while !Task.isCancelled {
            await catchUp()
            do { try await Task.sleep(for: context.config.catchUpInterval) } catch { return }
        }
    }

    private func catchUp() async {
        do {
            let all = try await context.outbox.destinations(excluding: context.us.rawValue)
                + context.durableEDUs.destinations().filter { $0 != context.us.rawValue }
            await registry.wakeAll(including: all)
        } catch {
            logger.warning("federation sender: destinations unknown: \(error)")
        }
    }
}
