import ServiceKit
import Testing

/// The notifier wakes exactly the waiters a notice concerns.
@Suite struct NotifierTests {
    /// Polls until the notifier holds `count` waiters (registration is asynchronous).
    static func waitForWaiters(_ n: Notifier, _ count: Int) async throws {
        for _ in 0..<500 {
            if await n.waiterCount == count { return }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TestFailure("notifier never reached \(count) waiters")
    }

    @Test func aNoticeForTheWaitersRoomWakesItAndOneForAnotherRoomDoesNot() async throws {
        let n = Notifier()
        let waiter = TimedTask { await n.wait(user: "@a:x", rooms: ["!mine:x"], after: 10, timeoutMs: 20_000) }
        try await Self.waitForWaiters(n, 1)

        await n.notify(StreamNotice(pos: 11, rooms: ["!other:x"]))
        await n.notify(StreamNotice(pos: 12, users: ["@someone-else:x"]))
        try await Task.sleep(for: .milliseconds(100))
        #expect(!waiter.isFinished, "woken by a notice for another room or user")
        #expect(await n.waiterCount == 1)

        await n.notify(StreamNotice(pos: 13, rooms: ["!other:x", "!mine:x"]))
        #expect(try await waiter.value == true, "woken by the notice, not by the timeout")
        #expect(await n.waiterCount == 0)
    }

    @Test func aNoticeForTheUserWakesItsWaiter() async throws {
        let n = Notifier()
        let waiter = TimedTask { await n.wait(user: "@b:x", rooms: [], after: 0, timeoutMs: 20_000) }
        try await Self.waitForWaiters(n, 1)
        await n.notify(StreamNotice(pos: 1, users: ["@b:x"]))
        #expect(try await waiter.value == true)
    }

    @Test func aNoticeAtOrBeforeTheWaitersPositionDoesNotWakeIt() async throws {
        let n = Notifier()
        let waiter = TimedTask { await n.wait(user: "@c:x", rooms: ["!r:x"], after: 50, timeoutMs: 20_000) }
        try await Self.waitForWaiters(n, 1)
        await n.notify(StreamNotice(pos: 50, rooms: ["!r:x"]))
        try await Task.sleep(for: .milliseconds(100))
        #expect(!waiter.isFinished)
        await n.notify(StreamNotice(pos: 51, rooms: ["!r:x"]))
        #expect(try await waiter.value == true)
    }

    @Test func aNoticeJustBeforeTheWaitRegistersReturnsAtOnce() async {
        let n = Notifier()
        await n.notify(StreamNotice(pos: 7, rooms: ["!early:x"]))
        #expect(await n.wait(user: "@d:x", rooms: ["!early:x"], after: 6, timeoutMs: 20_000) == true)
        // Already seen: a wait after that position times out instead.
        #expect(await n.wait(user: "@d:x", rooms: ["!early:x"], after: 7, timeoutMs: 50) == false)
        #expect(await n.waiterCount == 0, "a timed-out waiter is removed")
    }

    @Test func cancellingAWaitReleasesIt() async throws {
        let n = Notifier()
        let waiter = TimedTask { await n.wait(user: "@e:x", rooms: ["!r:x"], after: 0, timeoutMs: 20_000) }
        try await Self.waitForWaiters(n, 1)
        waiter.cancel()
        #expect(try await waiter.value == false)
        try await Self.waitForWaiters(n, 0)
    }
    @Test func aPollFromWhereTheLastEndedWaitsOnTheRoomsItRead() async throws {
        let n = Notifier()
        await n.remember(rooms: ["!mine:x"], of: "@f:x", asOf: 20)
        let waiter = TimedTask { await n.waitOnRemembered(user: "@f:x", after: 20, timeoutMs: 20_000) }
        try await Self.waitForWaiters(n, 1)
        await n.notify(StreamNotice(pos: 21, rooms: ["!other:x"]))
        try await Task.sleep(for: .milliseconds(100))
        #expect(!waiter.isFinished, "woken by a room the user is not in")
        await n.notify(StreamNotice(pos: 22, rooms: ["!mine:x"]))
        #expect(try await waiter.value == true)
    }

    @Test func rememberedRoomsDoNotServeAnOlderPollOrOneAfterANoticeAboutTheUser() async {
        let n = Notifier()
        #expect(await n.waitOnRemembered(user: "@g:x", after: 5, timeoutMs: 50) == nil, "nothing remembered")
        await n.remember(rooms: ["!r:x"], of: "@g:x", asOf: 30)
        #expect(await n.waitOnRemembered(user: "@g:x", after: 29, timeoutMs: 50) == nil, "read after the poll's position")
        #expect(await n.waitOnRemembered(user: "@g:x", after: 30, timeoutMs: 50) == false, "held, and timed out")
        // A membership change (a notice about the user) may have changed the rooms.
        await n.notify(StreamNotice(pos: 31, rooms: ["!new:x"], users: ["@g:x"]))
        #expect(await n.waitOnRemembered(user: "@g:x", after: 31, timeoutMs: 50) == nil)
        await n.remember(rooms: ["!r:x", "!new:x"], of: "@g:x", asOf: 31)
        #expect(await n.waitOnRemembered(user: "@g:x", after: 31, timeoutMs: 50) == false)
    }
}
