import Foundation
import Logging

/// Settings from the environment (see .env.example for each one).
public struct ServerConfig: Sendable {
    public var serverName: String
    public var publicBaseURL: String
    public var listenHost: String
    public var listenPort: Int
    public var databaseURL: String
    public var redisURL: String
    public var signingKeyPath: String
    public var enableRegistration: Bool
    public var registrationToken: String?
    public var registrationSharedSecret: String?
    public var migrateOnStart: Bool
    public var maxBodyBytes: Int
    public var rateLimitPerSecond: Double
    public var rateLimitBurst: Int
    public var logLevel: Logger.Level
    /// Port of the HTTPS listener for federation (nil: none). Needs the TLS certificate and key.
    public var federationListenPort: Int?
    public var tlsCertPath: String?
    public var tlsKeyPath: String?
    /// Check other servers' TLS certificates (off only for tests with self-signed certificates).
    public var federationVerifyTLS: Bool
    /// How often the federation sender looks at Postgres for every destination, in seconds.
    public var federationSenderCatchUpSeconds: Int
    /// Longest pause between retries of a failing destination, in seconds. Short enough that
    /// a server back from an outage hears from us within about this long even if it never
    /// contacts us first (when it does, its queue retries at once).
    public var federationSenderMaxRetrySeconds: Int
    /// The federation sender's instance name: kept across its restarts, never shared by two
    /// running senders; a restarted sender takes over its previous run's leases at once.
    public var federationSenderInstance: String?

    public init(environment env: [String: String] = ProcessInfo.processInfo.environment) {
        func s(_ k: String, _ d: String) -> String { env[k].flatMap { $0.isEmpty ? nil : $0 } ?? d }
        func b(_ k: String, _ d: Bool) -> Bool {
            guard let v = env[k]?.lowercased(), !v.isEmpty else { return d }
            return ["1", "true", "yes", "on"].contains(v)
        }
        serverName = s("MYELIN_SERVER_NAME", "localhost:8008")
        listenHost = s("MYELIN_LISTEN_HOST", "127.0.0.1")
        listenPort = Int(s("MYELIN_LISTEN_PORT", "8008")) ?? 8008
        publicBaseURL = s("MYELIN_PUBLIC_BASEURL", "http://\(listenHost):\(listenPort)")
        databaseURL = s("MYELIN_DATABASE_URL", "postgres://myelin@127.0.0.1:5432/myelin")
        redisURL = s("MYELIN_REDIS_URL", "redis://127.0.0.1:6379")
        signingKeyPath = s("MYELIN_SIGNING_KEY_PATH", "signing.key")
        enableRegistration = b("MYELIN_ENABLE_REGISTRATION", false)
        registrationToken = env["MYELIN_REGISTRATION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        registrationSharedSecret = env["MYELIN_REGISTRATION_SHARED_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        migrateOnStart = b("MYELIN_MIGRATE_ON_START", true)
        maxBodyBytes = Int(s("MYELIN_MAX_BODY_BYTES", "1048576")) ?? 1_048_576
        rateLimitPerSecond = Double(s("MYELIN_RATE_LIMIT_PER_SECOND", "10")) ?? 10
        rateLimitBurst = Int(s("MYELIN_RATE_LIMIT_BURST", "50")) ?? 50
        logLevel = Logger.Level(rawValue: s("MYELIN_LOG_LEVEL", "info").lowercased()) ?? .info
        federationListenPort = env["MYELIN_FEDERATION_LISTEN_PORT"].flatMap { Int($0) }
        tlsCertPath = env["MYELIN_TLS_CERT_PATH"].flatMap { $0.isEmpty ? nil : $0 }
        tlsKeyPath = env["MYELIN_TLS_KEY_PATH"].flatMap { $0.isEmpty ? nil : $0 }
        federationVerifyTLS = b("MYELIN_FEDERATION_VERIFY_TLS", true)
        federationSenderCatchUpSeconds = max(1, Int(s("MYELIN_FEDERATION_SENDER_CATCHUP_SECONDS", "15")) ?? 15)
        federationSenderMaxRetrySeconds = max(1, Int(s("MYELIN_FEDERATION_SENDER_MAX_RETRY_SECONDS", "60")) ?? 60)
        federationSenderInstance = env["MYELIN_FEDERATION_SENDER_INSTANCE"].flatMap { $0.isEmpty ? nil : $0 }
    }
}
