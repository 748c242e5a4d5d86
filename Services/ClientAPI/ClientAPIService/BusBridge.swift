import Bus
import Logging
import RoomServer
import ServiceKit
import Storage
import Synchronization

/// Connects a process to the Redis streams: publishes its commits (in order, batched, off
/// the request path) and feeds every other process's commits into its notifier.
public final class BusBridge: Sendable {
    private let publisher: BusPublisher
    /// Messages waiting to be published; whatever piles up during one round trip to Redis
    /// goes out in the next pipeline.
    private let outbox = Mutex<[BusMessage]>([])
    /// Rung after each append; holds one ring at most, so a burst wakes the publisher once.
    private let doorbell: AsyncStream<Void>
    private let ring: AsyncStream<Void>.Continuation
    /// Beyond this many unpublished messages the oldest are dropped: Redis only carries
    /// wake-ups, and waiters re-read Postgres anyway.
    private static let outboxLimit = 100_000
    private let url: RedisURL
    private let logger: Logger

    public init(url: String, logger: Logger) throws {
        self.url = try RedisURL(url)
        self.logger = logger
        publisher = BusPublisher(url: self.url, logger: logger)
        (doorbell, ring) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func publishEvent(_ c: CommittedEvent) {
        var f: [String: String] = [
            "pos": String(c.streamPos), "room_id": c.event.roomID, "event_id": c.event.eventID, "type": c.event.type,
            "sender": c.event.sender,
        ]
        if let sk = c.event.stateKey { f["state_key"] = sk }
        enqueue(BusMessage(stream: BusStream.events, fields: f))
    }

    /// Ephemeral work for the federation sender (typing, receipts of local users).
    func publishEDU(_ fields: [String: String]) {
        enqueue(BusMessage(stream: BusStream.edus, fields: fields))
    }

    /// `server` reached `us` (see `PeerLiveness`); our federation sender's queue for it retries now.
    func publishPeerUp(_ server: String, us: String) {
        enqueue(BusMessage(stream: BusStream.edus, fields: ["kind": "peer_up", "destination": server, "server_name": us]))
    }

    func publishNotice(_ n: StreamNotice) {
        enqueue(BusMessage(stream: BusStream.notify, fields: [
            "pos": String(n.pos), "rooms": n.rooms.joined(separator: "\n"), "users": n.users.joined(separator: "\n"),
        ]))
    }

    /// A user's access tokens were revoked here: other processes drop them from their caches.
    func publishTokensRevoked(_ userID: String) {
        enqueue(BusMessage(stream: BusStream.notify, fields: ["tokens_revoked": userID]))
    }

    private func enqueue(_ m: BusMessage) {
        outbox.withLock { q in
            q.append(m)
            if q.count > Self.outboxLimit { q.removeFirst(q.count - Self.outboxLimit) }
        }
        ring.yield()
    }

    /// Publishes queued messages, in order, one pipeline per batch, until cancelled.
    public func runPublisher() async {
        for await _ in doorbell {
            let batch = outbox.withLock { q in
                let b = q
                q.removeAll(keepingCapacity: true)
                return b
            }
            if !batch.isEmpty { _ = await publisher.publish(batch: batch) }
        }
        await publisher.shutdown()
    }

    /// Reads both fan-out streams into the notifier until cancelled.
    func runReaders(notifier: Notifier, db: Database) async {
        let log = logger
        let onReconnect: @Sendable () async -> Void = {
            // Entries may have been missed while disconnected: every waiter re-checks Postgres.
            let head = try? await db.currentStreamHead()
            await notifier.wakeAll(head: head)
            log.info("bus reconnected; woke all waiters")
        }
        // Events this process committed woke its waiters already; the stream matters for those of
        // other processes, and at a few milliseconds a read of a busy stream takes many commits.
        var eventOptions = BusFanoutReader.Options()
        eventOptions.gather = .milliseconds(3)
        let events = BusFanoutReader(url: url, stream: BusStream.events, options: eventOptions, logger: logger,
                                     onReconnect: onReconnect)
        let notify = BusFanoutReader(url: url, stream: BusStream.notify, logger: logger, onReconnect: onReconnect)
        await withDiscardingTaskGroup { g in
            g.addTask {
                await events.run { e in
                    guard let pos = e["pos"].flatMap(Int64.init), let room = e["room_id"] else { return }
                    let users = e["type"] == "m.room.member" ? [e["state_key"] ?? ""] : []
                    await notifier.notify(StreamNotice(pos: pos, rooms: [room], users: users))
                }
            }
            g.addTask {
                await notify.run { e in
                    if let user = e["tokens_revoked"] {
                        db.tokenCache.forget(userID: user, announce: false)
                        return
                    }
                    guard let pos = e["pos"].flatMap(Int64.init) else { return }
                    func list(_ k: String) -> [String] { (e[k] ?? "").split(separator: "\n").map(String.init) }
                    await notifier.notify(StreamNotice(pos: pos, rooms: list("rooms"), users: list("users")))
                }
            }
        }
    }
}
