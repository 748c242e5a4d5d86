import MatrixCore

/// One queue per destination, made on first use and kept for the life of the sender.
actor DestinationRegistry {
    private var queues: [String: DestinationQueue] = [:]
    private let context: SenderContext

    init(context: SenderContext) {
        self.context = context
    }

    private func queue(_ name: String) -> DestinationQueue? {
        if let q = queues[name] { return q }
        guard let server = ServerName(name), server != context.us else { return nil }
        let q = DestinationQueue(destination: server, context: context)
        queues[name] = q
        Task { await q.start() }
        return q
    }

    func wake(_ destinations: [String]) {
        for d in destinations { queue(d)?.wake() }
    }

    func enqueue(_ edu: JSON, to destinations: [String]) async {
        for d in destinations { await queue(d)?.enqueue(edu) }
    }

    /// Makes sure every one of `destinations` has a queue, then wakes all queues.
    func wakeAll(including destinations: [String]) {
        for d in destinations { _ = queue(d) }
        for q in queues.values { q.wake() }
    }

    /// `destination` reached one of our processes: its queue (if any) retries at once.
    func peerIsUp(_ destination: String) async {
        await queues[destination]?.peerIsUp()
    }

    func stopAll() async {
        let all = queues.values
        queues = [:]
        for q in all { await q.stop() }
    }
}
