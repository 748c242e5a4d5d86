/// Per-destination pauses after failures, so requests to a dead server fail at once instead
/// of each waiting for a timeout, while requests to live servers go on unaffected.
actor DestinationBackoff {
    private struct State {
        var failures: Int
        var retryAt: ContinuousClock.Instant
    }

    private var states: [String: State] = [:]
    private let initial: Duration
    private let maximum: Duration

    init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    /// Throws while `destination` is paused.
    func check(_ destination: String) throws(FederationError) {
        guard let s = states[destination] else { return }
        let now = ContinuousClock.now
        if now < s.retryAt {
            let left = s.retryAt - now
            let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
            throw .backingOff(destination: destination, retryAfterMs: max(ms, 1))
        }
    }

    func succeeded(_ destination: String) {
        states[destination] = nil
    }

    func failed(_ destination: String) {
        let now = ContinuousClock.now
        var s = states[destination] ?? State(failures: 0, retryAt: now)
        // Requests already in flight when the first failure came back do not count again.
        guard now >= s.retryAt || s.failures == 0 else { return }
        s.failures += 1
        let pause = initial * (1 << min(s.failures - 1, 20))
        s.retryAt = now + min(pause, maximum)
        states[destination] = s
    }
}
