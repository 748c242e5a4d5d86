/// Runs reads that arrive together as one statement. One message wakes every long-poll of its
/// room at once, and each woken poll makes the same kind of read for its own user: as one
/// statement they share the round trip and Postgres's per-statement work, which is most of
/// such a read's cost. A read that finds no batch running starts at once, so a lone caller
/// waits no longer than it would alone; reads that come while `maxInFlight` batches run go
/// together in the next one.
actor ReadCoalescer<Request: Sendable, Response: Sendable> {
    typealias Run = @Sendable ([Request]) async throws -> [Response]

    private let run: Run
    private let maxInFlight: Int
    private let maxBatch: Int
    private var queue: [(Request, CheckedContinuation<Response, any Error>)] = []
    private var inFlight = 0

    /// `run` answers every request of a batch, in order.
    init(maxInFlight: Int = 2, maxBatch: Int = 64, run: @escaping Run) {
        self.run = run
        self.maxInFlight = maxInFlight
        self.maxBatch = maxBatch
    }

    func read(_ request: Request) async throws -> Response {
        try await withCheckedThrowingContinuation { c in
            queue.append((request, c))
            if inFlight < maxInFlight { startBatch() }
        }
    }

    private func startBatch() {
        let n = min(queue.count, maxBatch)
        let batch = Array(queue.prefix(n))
        queue.removeFirst(n)
        inFlight += 1
        let run = self.run
        Task {
            let result: Result<[Response], any Error>
            do { result = .success(try await run(batch.map(\.0))) } catch { result = .failure(error) }
            self.finish(batch.map(\.1), result)
        }
    }

    private func finish(_ waiters: [CheckedContinuation<Response, any Error>], _ result: Result<[Response], any Error>) {
        switch result {
        case .success(let responses) where responses.count == waiters.count:
            for (w, r) in zip(waiters, responses) { w.resume(returning: r) }
        case .success:
            for w in waiters { w.resume(throwing: ReadCoalescerError.answerCountMismatch) }
        case .failure(let error):
            for w in waiters { w.resume(throwing: error) }
        }
        inFlight -= 1
        if !queue.isEmpty && inFlight < maxInFlight { startBatch() }
    }
}

enum ReadCoalescerError: Error { case answerCountMismatch }
