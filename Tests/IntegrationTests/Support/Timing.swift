import Synchronization

/// A task whose completion time can be checked while it runs.
final class TimedTask<T: Sendable>: Sendable {
    private final class Mark: Sendable {
        let at = Mutex<ContinuousClock.Instant?>(nil)
    }

    private let mark = Mark()
    private let task: Task<T, any Error>

    init(_ body: @escaping @Sendable () async throws -> T) {
        let mark = self.mark
        task = Task {
            defer { mark.at.withLock { $0 = ContinuousClock.now } }
            return try await body()
        }
    }

    var isFinished: Bool { mark.at.withLock { $0 != nil } }
    var finishTime: ContinuousClock.Instant? { mark.at.withLock { $0 } }
    var value: T { get async throws { try await task.value } }
    func cancel() { task.cancel() }
}
