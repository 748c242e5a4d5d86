import NIOCore
import NIOPosix

/// A position advance and who it concerns: rooms whose members should look, and users.
public struct StreamNotice: Sendable {
    public let pos: Int64
    public let rooms: [String]
    public let users: [String]
    public init(pos: Int64, rooms: [String] = [], users: [String] = []) {
        self.pos = pos
        self.rooms = rooms
        self.users = users
    }
}

/// Wakes long-polls when something they care about advances. Fed by this process's own
/// commits and by the Redis fan-out of every other process; waiters never poll the database.
public actor Notifier {
    private struct Waiter {
        let after: Int64
        let user: String
        let rooms: Set<String>
        let continuation: CheckedContinuation<Bool, Never>
    }

    private var waiters: [UInt64: Waiter] = [:]
    private var nextID: UInt64 = 0
    public private(set) var head: Int64 = 0
    /// Set when the process is shutting down: waits return at once from then on.
    public private(set) var draining = false
    /// Latest notice position per room and per user, so a waiter that registers just after a
    /// relevant notice still returns at once.
    private var roomPos: [String: Int64] = [:]
    private var userPos: [String: Int64] = [:]
    /// Each user's rooms as a long-poll last read them, and at which position: the next poll
    /// from there waits on them without asking Postgres again, unless a notice about the user
    /// itself (a membership change among them) came after that read.
    private var rememberedRooms: [String: (rooms: Set<String>, asOf: Int64)] = [:]
    /// Bounds the memory of remembered rooms; forgetting only costs a read.
    private let maxRemembered = 20_000

    /// Wait timeouts run on an event loop: a cancelled NIO timer is freed at once, where a
    /// cancelled `Task.sleep` keeps its memory until its deadline (a woken long-poll's timer
    /// would linger for the rest of its 30 s).
    private let timers: any EventLoop

    public init(timers: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) { self.timers = timers }

    public func notify(_ n: StreamNotice) {
        head = max(head, n.pos)
        for r in n.rooms { roomPos[r] = max(roomPos[r] ?? 0, n.pos) }
        for u in n.users { userPos[u] = max(userPos[u] ?? 0, n.pos) }
        guard !waiters.isEmpty else { return }
        let users = Set(n.users)
        for (id, w) in waiters where n.pos > w.after && (users.contains(w.user) || n.rooms.contains(where: w.rooms.contains)) {
            waiters.removeValue(forKey: id)
            w.continuation.resume(returning: true)
        }
    }

    /// Wakes everyone: after a reconnect to Redis, when notices may have been missed.
    public func drain() {
        draining = true
        wakeAll()
    }

    public func wakeAll(head newHead: Int64? = nil) {
        if let newHead { head = max(head, newHead) }
        let all = waiters
        waiters.removeAll()
        for w in all.values { w.continuation.resume(returning: true) }
    }

    /// Waits until a notice after `after` for `user` or one of `rooms` arrives, or the timeout passes.
    /// Returns true when woken by a notice.
    public func wait(user: String, rooms: Set<String>, after: Int64, timeoutMs: Int) async -> Bool {
        if (userPos[user] ?? 0) > after || rooms.contains(where: { (roomPos[$0] ?? 0) > after }) { return true }
        guard timeoutMs > 0, !draining else { return false }
        nextID &+= 1
        let id = nextID
        let timer = timers.scheduleTask(in: .milliseconds(Int64(timeoutMs))) { [weak self] in
            guard let self else { return }
            Task { await self.expire(id) }
        }
        let woke = await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                waiters[id] = Waiter(after: after, user: user, rooms: rooms, continuation: c)
            }
        } onCancel: {
            Task { await self.expire(id) }
        }
        timer.cancel()
        return woke
    }

    /// Keeps `rooms` as `user`'s rooms, read at stream position `pos`.
    public func remember(rooms: Set<String>, of user: String, asOf pos: Int64) {
        if rememberedRooms.count >= maxRemembered, rememberedRooms[user] == nil { rememberedRooms.removeAll() }
        rememberedRooms[user] = (rooms, pos)
    }

    /// Waits as `wait` does on the rooms remembered for `user`, when they still hold for a
    /// poll from `after`: read at or before it, with no notice about the user since. Nil when
    /// they may not hold; the caller reads them from Postgres.
    public func waitOnRemembered(user: String, after: Int64, timeoutMs: Int) async -> Bool? {
        guard let r = rememberedRooms[user], after >= r.asOf, (userPos[user] ?? 0) <= r.asOf else { return nil }
        return await wait(user: user, rooms: r.rooms, after: after, timeoutMs: timeoutMs)
    }

    private func expire(_ id: UInt64) {
        if let w = waiters.removeValue(forKey: id) { w.continuation.resume(returning: false) }
    }

    public var waiterCount: Int { waiters.count }
}
