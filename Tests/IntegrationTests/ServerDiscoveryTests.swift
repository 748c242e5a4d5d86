import TestSupport
import FederationClient
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import MatrixCore
import NIOSSL
import Storage
import Testing

/// Server name resolution against a real HTTPS server for `/.well-known/matrix/server`
/// (on a free loopback port instead of 443) and a nameserver that answers nothing, so
/// SRV look-ups find no records.
@Suite(.serialized) struct ServerDiscoveryTests {
    /// What the well-known server answers; tests change it between look-ups.
    actor Served {
        var status: HTTPResponse.Status = .ok
        var body = "{}"
        var cacheControl: String?
        var hits = 0
        func set(_ status: HTTPResponse.Status = .ok, _ body: String, cacheControl: String? = nil) {
            self.status = status
            self.body = body
            self.cacheControl = cacheControl
        }
        func answer() -> (HTTPResponse.Status, String, String?) {
            hits += 1
            return (status, body, cacheControl)
        }
    }

    func withWellKnown(_ body: @escaping @Sendable (FederationClient, Served) async throws -> Void) async throws {
        let cert = try TestCertificate.shared.get()
        let served = Served()
        let router = Router()
        router.get("/.well-known/matrix/server") { _, _ -> Response in
            let (status, text, cc) = await served.answer()
            var headers: HTTPFields = [.contentType: "application/json"]
            if let cc { headers[.cacheControl] = cc }
            return Response(status: status, headers: headers, body: .init(byteBuffer: .init(string: text)))
        }
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(cert.certPath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: cert.keyPath, format: .pem)))
        let port = try freeLocalPort()
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        var logger = Logger(label: "myelin.it.wellknown")
        logger.logLevel = .critical
        let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls),
                              configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { _ in readyContinuation.yield() }, logger: logger)
        // The pool is never run: resolution does not touch the key store.
        let unusedDB = try Database(url: "postgres://nobody@127.0.0.1:1/none", logger: logger)
        let silentDNS = SRVResolver.Nameserver(host: "127.0.0.1", port: UInt16(try freeLocalPort()))
        let client = FederationClient(
            origin: ServerName("origin.test")!, signingKey: try SigningKey.generate(),
            config: FederationClientConfig(verifyTLS: false, wellKnownPort: port, nameservers: [silentDNS]),
            keyStore: ServerKeyStore(db: unusedDB), logger: logger)
        let result: Result<Void, any Error>
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.run() }
                defer { group.cancelAll() }
                for await _ in ready { break }
                try await body(client, served)
            }
            result = .success(())
        } catch {
            result = .failure(error)
        }
        await client.shutdown()
        try result.get()
    }

    func resolve(_ client: FederationClient, _ name: String) async throws -> ResolvedDestination {
        guard let server = ServerName(name) else { throw TestFailure("\(name) is not a server name") }
        return await client.resolver.resolve(server)
    }

    func expectResolved(_ client: FederationClient, _ name: String, _ expected: ResolvedDestination,
                        sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let got = try await resolve(client, name)
        #expect(got == expected, sourceLocation: sourceLocation)
    }

    @Test func ipLiteralsAndExplicitPortsNeedNoLookup() async throws {
        try await withWellKnown { client, served in
            try await expectResolved(client, "127.0.0.1", ResolvedDestination(host: "127.0.0.1", port: 8448, hostHeader: "127.0.0.1", tlsName: nil))
            try await expectResolved(client, "[::1]:1234", ResolvedDestination(host: "::1", port: 1234, hostHeader: "[::1]:1234", tlsName: nil))
            try await expectResolved(client, "example.test:8449", ResolvedDestination(host: "example.test", port: 8449, hostHeader: "example.test:8449", tlsName: "example.test"))
            #expect(await served.hits == 0)
        }
    }

    @Test func wellKnownDelegationIsFollowedAndCached() async throws {
        try await withWellKnown { client, served in
            await served.set(.ok, #"{"m.server": "delegated.test:9000"}"#)
            let expected = ResolvedDestination(host: "delegated.test", port: 9000, hostHeader: "delegated.test:9000", tlsName: "delegated.test")
            try await expectResolved(client, "localhost", expected)
            // Cached: a changed answer is not seen, and the server is not asked again.
            await served.set(.ok, #"{"m.server": "elsewhere.test:1"}"#)
            try await expectResolved(client, "localhost", expected)
            #expect(await served.hits == 1)
        }
    }

    @Test func noStoreAnswersAreAskedAgain() async throws {
        try await withWellKnown { client, served in
            await served.set(.ok, #"{"m.server": "127.0.0.1"}"#, cacheControl: "no-store")
            try await expectResolved(client, "localhost", ResolvedDestination(host: "127.0.0.1", port: 8448, hostHeader: "127.0.0.1", tlsName: nil))
            await served.set(.ok, #"{"m.server": "[::1]:7000"}"#, cacheControl: "no-store")
            try await expectResolved(client, "localhost", ResolvedDestination(host: "::1", port: 7000, hostHeader: "[::1]:7000", tlsName: nil))
            #expect(await served.hits == 2)
        }
    }

    @Test func delegationWithoutAPortFallsToSRVThenPort8448() async throws {
        try await withWellKnown { client, served in
            await served.set(.ok, #"{"m.server": "delegated.test"}"#)
            try await expectResolved(client, "localhost", ResolvedDestination(host: "delegated.test", port: 8448, hostHeader: "delegated.test", tlsName: "delegated.test"))
        }
    }

    @Test(arguments: [(HTTPResponse.Status.notFound, #"{"m.server": "x.test:1"}"#), (.ok, "not json"), (.ok, #"{"m.server": "bad name!"}"#)])
    func unusableAnswersMeanNoDelegation(status: HTTPResponse.Status, body: String) async throws {
        try await withWellKnown { client, served in
            await served.set(status, body)
            try await expectResolved(client, "localhost", ResolvedDestination(host: "localhost", port: 8448, hostHeader: "localhost", tlsName: "localhost"))
            #expect(await served.hits == 1)
            // Remembered for an hour rather than asked on every request.
            _ = try await resolve(client, "localhost")
            #expect(await served.hits == 1)
        }
    }
}
