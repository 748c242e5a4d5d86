import Bus
import Logging
import RoomServer
import ServiceKit
import Storage

/// Connects a process to the Redis streams: publishes its commits (in order, batched, off
/// the request path) and feeds every other process's commits into its notifier.
public final class BusBridge: Sendable {
    private let publisher: BusPublisher
    private let outbox: AsyncStream<BusMessage>
    private let outboxIn: AsyncStream<BusMessage>.Continuation
    private let url: RedisURL
    private let logger: Logger

    public init(url: String, logger: Logger) throws {
        self.url = try RedisURL(url)
        self.logger = logger
        publisher = BusPublisher(url: self.url, logger: logger)
        (outbox, outboxIn) = AsyncStream.makeStream(of: BusMessage.self, bufferingPolicy: .bufferingNewest(100_000))
    }

    func publishEvent(_ c: CommittedEvent) {
        var f: [String: String] = [
            "pos": String(c.streamPos), "room_id": c.event.roomID, "event_id": c.event.eventID, "type": c.event.type,
            "sender": c.event.sender,
        ]
        if let sk = c.event.stateKey { f["state_key"] = sk }
        outboxIn.yield(BusMessage(stream: BusStream.events, fields: f))
    }

    /// Ephemeral work for the federation sender (typing, receipts of local users).
    func publishEDU(_ fields: [String: String]) {
        outboxIn.yield(BusMessage(stream: BusStream.edus, fields: fields))
    }

    func publishNotice(_ n: StreamNotice) {
        outboxIn.yield(BusMessage(stream: BusStream.notify, fields: [
            "pos": String(n.pos), "rooms": n.rooms.joined(separator: "\n"), "users": n.users.joined(separator: "\n"),
        ]))
    }

    /// Publishes queued messages in batches until cancelled.
    public func runPublisher() async {
        var batch: [BusMessage] = []
        for await m in outbox {
            batch.append(m)
            _ = await publisher.publish(batch: batch)
            batch.removeAll(keepingCapacity: true)
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
        let events = BusFanoutReader(url: url, stream: BusStream.events, logger: logger, onReconnect: onReconnect)
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
                    guard let pos = e["pos"].flatMap(Int64.init) else { return }
                    func list(_ k: String) -> [String] { (e[k] ?? "").split(separator: "\n").map(String.init) }
                    await notifier.notify(StreamNotice(pos: pos, rooms: list("rooms"), users: list("users")))
                }
            }
        }
    }
}
