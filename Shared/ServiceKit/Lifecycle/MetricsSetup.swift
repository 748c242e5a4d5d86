import Metrics
import Prometheus
import Synchronization

/// Prometheus metrics for the process: swift-metrics is bootstrapped once with a Prometheus
/// registry, and `/metrics` renders it.
public enum MetricsSetup {
    public static let registry = PrometheusCollectorRegistry()
    private static let bootstrapped = Mutex(false)

    /// Safe to call more than once (several services share a process in `serve --all` and tests).
    public static func bootstrap() {
        bootstrapped.withLock { done in
            guard !done else { return }
            done = true
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        }
    }

    public static func render() -> [UInt8] { registry.emitToBuffer() }
}
