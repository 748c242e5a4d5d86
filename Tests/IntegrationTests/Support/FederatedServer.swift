import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import AsyncHTTPClient
import ClientAPIService
import FederationClient
import FederationSenderService
import Foundation
import Hummingbird
import HummingbirdTesting
import MatrixCore
import NIOCore
import NIOSSL
import ServiceKit
import Storage

/// A client API under its own name, `localhost:<port>`, reachable by other servers over
/// TLS on that port (a self-signed certificate; it does not check its peers' either), and
/// by test clients over plain HTTP on another port.
struct FederatedServer: MatrixHTTP {
    let api: ClientAPI
    /// The plain client-API port.
    let port: Int
    let federationPort: Int
    var accounts: AccountStore { api.accounts }
    var name: String { api.serverName.rawValue }

    /// With `sender`, the server also publishes its commits to Redis and runs a federation
    /// sender (with short pauses, for tests). A server started again on the same database
    /// with the same `signingKey` and `federationPort` is the same server back from a stop.
    static func run<T: Sendable>(db: Database, settings: [String: String] = [:], sender: Bool = false,
                                 senderConfig: SenderConfig = .forTests,
                                 signingKey: SigningKey? = nil, federationPort: Int? = nil,
                                 _ body: @escaping @Sendable (FederatedServer) async throws -> T) async throws -> T {
        let cert = try TestCertificate.shared.get()
        let fedPort = try federationPort ?? freeLocalPort()
        var env = [
            "MYELIN_SERVER_NAME": "localhost:\(fedPort)",
            "MYELIN_REDIS_URL": try TestEnvironment.redisURL(),
            "MYELIN_RATE_LIMIT_PER_SECOND": "0",
            "MYELIN_FEDERATION_LISTEN_PORT": String(fedPort),
            "MYELIN_TLS_CERT_PATH": cert.certPath,
            "MYELIN_TLS_KEY_PATH": cert.keyPath,
            "MYELIN_FEDERATION_VERIFY_TLS": "false",
        ]
        env.merge(settings) { $1 }
        let logger = TestEnvironment.logger("fed")
        let config = ServerConfig(environment: env)
        let bridge = try BusBridge(url: config.redisURL, logger: logger)
        let api = try ClientAPI(config: config, db: db, signingKey: try signingKey ?? SigningKey.generate(), publisher: bridge, logger: logger)
        let (ready, readyContinuation) = AsyncStream<Int>.makeStream()
        guard let tls = try TLSListener.application(config: config, responder: api.responder(), logger: logger,
                                                    onReady: { readyContinuation.yield($0) }) else {
            throw TestFailure("no TLS listener configured")
        }
        let app = Application(responder: api.responder(),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "Myelin"), logger: logger)
        let result: Result<T, any Error>
        do {
            result = .success(try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
                group.addTask { try await tls.run() }
                if sender {
                    let s = try FederationSender(db: db, federation: api.federation, redisURL: config.redisURL,
                                                 config: senderConfig,
                                                 logger: logger)
                    group.addTask { await bridge.runPublisher() }
                    group.addTask { await s.run() }
                }
                defer { group.cancelAll() }
                for await _ in ready { break }
                return try await app.test(.live) { client in
                    guard let port = client.port else { throw TestFailure("the live test server reported no port") }
                    return try await body(FederatedServer(api: api, port: port, federationPort: fedPort))
                }
            })
        } catch {
            result = .failure(error)
        }
        await api.federation.shutdown()
        return try result.get()
    }

    /// A local user with an access token.
    func makeUser(_ localpart: String, displayname: String? = nil) async throws -> TestUser {
        let userID = "@\(localpart):\(name)"
        guard try await accounts.createUser(userID, passwordHash: nil, displayname: displayname) else {
            throw TestFailure("user \(userID) already exists")
        }
        let token = try await accounts.createSession(userID: userID, deviceID: "DEV_\(localpart)", displayName: nil, ip: nil)
        return TestUser(userID: userID, token: token)
    }

    /// A raw HTTPS request to this server's federation port, with whatever headers a test
    /// wants (forged ones included).
    func federationRequest(_ method: String, _ uri: String, headers: [(String, String)] = [],
                           body: [UInt8]? = nil) async throws -> HTTPResult {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(tlsConfiguration: tls))
        do {
            var request = HTTPClientRequest(url: "https://127.0.0.1:\(federationPort)\(uri)")
            request.method = .init(rawValue: method)
            for (n, v) in headers { request.headers.add(name: n, value: v) }
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await client.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 24)
            try await client.shutdown()
            return HTTPResult(status: .init(code: Int(response.status.code)), headers: [:], body: Array(bytes.readableBytesView))
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A request signed as `origin` with `key` for `destination` (ours unless given).
    func signedRequest(_ method: String, _ uri: String, origin: String, key: SigningKey, destination: String? = nil,
                       body: JSON? = nil) async throws -> HTTPResult {
        let auth = SignedRequest(method: method, uri: uri, origin: origin, destination: destination ?? name, content: body)
            .authorization(signedBy: key)
        var headers = [("Authorization", auth.headerValue)]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try await federationRequest(method, uri, headers: headers, body: body?.canonicalBytes)
    }
}

extension SenderConfig {
    /// Short pauses and leases, so tests see retries and take-overs in seconds.
    static let forTests = SenderConfig(catchUpInterval: .milliseconds(500), initialRetryDelay: .milliseconds(200),
                                       maxRetryDelay: .seconds(1), leaseTTLMs: 3_000, leaseRenewMarginMs: 1_500)
}

/// One self-signed certificate for `localhost` and 127.0.0.1, made with openssl once per
/// test process.
enum TestCertificate {
    struct Paths: Sendable {
        let certPath: String
        let keyPath: String
    }

    static let shared: Result<Paths, any Error> = Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("myelin-it-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cert = dir.appendingPathComponent("cert.pem").path, key = dir.appendingPathComponent("key.pem").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                       "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                       "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestFailure("openssl could not make a test certificate") }
        return Paths(certPath: cert, keyPath: key)
    }
}

