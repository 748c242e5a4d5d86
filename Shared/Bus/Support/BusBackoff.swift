/// Exponential reconnect delay: `initial`, doubling per failure, capped at
/// `maximum`, with jitter so many processes do not reconnect in lockstep.
public struct BusBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// Delay before the next attempt after `failures` consecutive failures (≥ 1).
    public func delay(afterFailures failures: Int) -> Duration {
        let exponent = min(max(failures - 1, 0), 30)
        let full = min(initial * (1 << exponent), maximum)
        return full * Double.random(in: 0.75...1.0)
    }
}
