import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle

/// The HTTPS listener other servers reach us on (federation must be HTTPS). It serves the
/// same responder as the plain listener; a reverse proxy may terminate TLS instead, in
/// which case this stays off.
public enum TLSListener {
    public struct ConfigError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The listener for `MYELIN_FEDERATION_LISTEN_PORT`, or nil when none is configured.
    public static func application(config: ServerConfig, responder: MatrixResponder, logger: Logger,
                                   onReady: (@Sendable (Int) async -> Void)? = nil) throws -> (any Service)? {
        guard let port = config.federationListenPort else { return nil }
        guard let certPath = config.tlsCertPath, let keyPath = config.tlsKeyPath else {
            throw ConfigError(description: "MYELIN_FEDERATION_LISTEN_PORT needs MYELIN_TLS_CERT_PATH and MYELIN_TLS_KEY_PATH")
        }
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certPath)
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ConfigError(description: "cannot load the TLS certificate or key: \(error)")
        }
        guard !chain.isEmpty else { throw ConfigError(description: "no certificate in \(certPath)") }
        let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                           privateKey: .privateKey(key))
        let host = config.listenHost
        return Application(
            responder: responder, server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(host, port: port), serverName: "Myelin"),
            onServerRunning: { ch in
                let bound = ch.localAddress?.port ?? 0
                logger.notice("federation (TLS) listening on \(host):\(bound)")
                await onReady?(bound)
            },
            logger: logger)
    }
}
