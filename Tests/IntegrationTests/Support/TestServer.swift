import ClientAPIService
import Foundation
import Hummingbird
import HummingbirdTesting
import MatrixCore
import NIOCore
import ServiceKit
import Storage

/// The client API served over real HTTP on a free loopback port, in this process, over a
/// test database. Each request goes out on its own connection, so a long-poll never holds
/// up the requests sent while it waits.
struct TestServer: MatrixHTTP {
    static let serverName = "myelin.test"

    let api: ClientAPI
    let port: Int
    var db: Database { api.db }
    var accounts: AccountStore { api.accounts }

    /// Settings default to: registration on, rate limits off. `settings` overrides them
    /// (same names as the environment variables).
    static func run<T: Sendable>(db: Database, settings: [String: String] = [:],
                                 _ body: @escaping @Sendable (TestServer) async throws -> T) async throws -> T {
        let redis = try TestEnvironment.redisURL()
        var env = [
            "MYELIN_SERVER_NAME": serverName,
            "MYELIN_REDIS_URL": redis,
            "MYELIN_ENABLE_REGISTRATION": "true",
            "MYELIN_RATE_LIMIT_PER_SECOND": "0",
            "MYELIN_RATE_LIMIT_BURST": "0",
        ]
        env.merge(settings) { $1 }
        let logger = TestEnvironment.logger("http")
        let bridge = try BusBridge(url: redis, logger: logger)
        let api = try ClientAPI(config: ServerConfig(environment: env), db: db, signingKey: try SigningKey.generate(),
                                publisher: bridge, logger: logger)
        let app = Application(responder: api.responder(),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "Myelin"),
                              logger: logger)
        let result: Result<T, any Error>
        do {
            result = .success(try await app.test(.live) { client in
                guard let port = client.port else { throw TestFailure("the live test server reported no port") }
                return try await body(TestServer(api: api, port: port))
            })
        } catch {
            result = .failure(error)
        }
        // Its HTTP clients for other servers must be closed before it goes away.
        await api.federation.shutdown()
        return try result.get()
    }
}

/// One HTTP response, with its body parsed as JSON when it is JSON.
struct HTTPResult: Sendable, CustomStringConvertible {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: [UInt8]

    var json: JSON { (try? JSON.parse(body)) ?? .null }
    var errcode: String? { json["errcode"]?.stringValue }
    var description: String { "\(status.code) \(String(decoding: body.prefix(500), as: UTF8.self))" }
}

/// A client API listening on a loopback port, reached over HTTP.
protocol MatrixHTTP: Sendable {
    var port: Int { get }
    /// Where test accounts are made (directly, to skip password hashing).
    var accounts: AccountStore { get }
}

extension MatrixHTTP {
    func request(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, body: [UInt8]? = nil,
                 headers: HTTPFields = [:]) async throws -> HTTPResult {
        var h = headers
        if let token { h[.authorization] = "Bearer \(token)" }
        let request = TestClient.Request(path, method: method, authority: "127.0.0.1:\(port)", headers: h,
                                         body: body.map { ByteBuffer(bytes: $0) })
        return try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(60))) { c in
            let r = try await c.execute(request)
            return HTTPResult(status: r.status, headers: r.headers, body: r.body.map { Array($0.readableBytesView) } ?? [])
        }
    }

    func request(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: JSON) async throws -> HTTPResult {
        try await request(method, path, token: token, body: json.canonicalBytes, headers: [.contentType: "application/json"])
    }

    /// Fails the test with the response when the status is not 200.
    func ok(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: JSON? = nil) async throws -> JSON {
        let r: HTTPResult
        if let json { r = try await request(method, path, token: token, json: json) } else { r = try await request(method, path, token: token) }
        guard r.status == .ok else { throw TestFailure("\(method) \(path) answered \(r)") }
        return r.json
    }
}
