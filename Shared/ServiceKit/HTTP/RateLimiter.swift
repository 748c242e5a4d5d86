import Foundation

/// Token buckets per key (user or IP). `take` returns nil when allowed, or how long to wait.
public actor RateLimiter {
    let perSecond: Double
    let burst: Double
    private var buckets: [String: (tokens: Double, at: Double)] = [:]
    private var lastSweep = 0.0

    /// `perSecond <= 0` disables limiting.
    public init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = Double(max(burst, 1))
    }

    public func take(_ key: String) -> Int64? {
        guard perSecond > 0 else { return nil }
        let now = ProcessInfo.processInfo.systemUptime
        var b = buckets[key] ?? (burst, now)
        b.tokens = min(burst, b.tokens + (now - b.at) * perSecond)
        b.at = now
        if b.tokens >= 1 {
            b.tokens -= 1
            buckets[key] = b
            sweep(now)
            return nil
        }
        buckets[key] = b
        return Int64(((1 - b.tokens) / perSecond * 1000).rounded(.up))
    }

    /// Forget full buckets now and then so memory stays bounded.
    private func sweep(_ now: Double) {
        guard now - lastSweep > 60 else { return }
        lastSweep = now
        buckets = buckets.filter { min(burst, $0.value.tokens + (now - $0.value.at) * perSecond) < burst }
    }
}
