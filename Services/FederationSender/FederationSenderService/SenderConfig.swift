/// How the federation sender paces itself. The service reads these from the environment
/// (`MYELIN_FEDERATION_SENDER_*`, see .env.example).
public struct SenderConfig: Sendable {
    /// How often every destination looks at Postgres for work whether or not Redis said
    /// so: what bounds the delay after lost stream entries, a Redis flush, or a wake-up
    /// that went to another sender process.
    public var catchUpInterval: Duration
    /// First pause after a failed transaction; it doubles per failure up to `maxRetryDelay`.
    public var initialRetryDelay: Duration
    public var maxRetryDelay: Duration
    /// A destination's lease: how long it lasts, and how long before expiry it is renewed.
    public var leaseTTLMs: Int64
    public var leaseRenewMarginMs: Int64
    /// How long one `/send` may take.
    public var requestTimeout: Duration
    /// A name this sender keeps across restarts and shares with no other running sender
    /// (say, its container's service name). A restarted sender then takes over its
    /// previous run's leases at once instead of waiting for them to expire. Nil: none.
    public var instanceName: String?

    public static let maxPDUs = 50
    public static let maxEDUs = 100
    /// EDUs waiting for a destination beyond this are dropped, oldest first: they are
    /// ephemeral, and a server that is down for long does not need old typing notices.
    public static let maxQueuedEDUs = 1_000

    public init(catchUpInterval: Duration = .seconds(15), initialRetryDelay: Duration = .seconds(2),
                maxRetryDelay: Duration = .seconds(60), leaseTTLMs: Int64 = 60_000, leaseRenewMarginMs: Int64 = 30_000,
                requestTimeout: Duration = .seconds(30), instanceName: String? = nil) {
        self.catchUpInterval = catchUpInterval
        self.initialRetryDelay = initialRetryDelay
        self.maxRetryDelay = maxRetryDelay
        self.leaseTTLMs = leaseTTLMs
        self.leaseRenewMarginMs = leaseRenewMarginMs
        self.requestTimeout = requestTimeout
        self.instanceName = instanceName
    }
}
