import AsyncHTTPClient
import Foundation
import Logging
import MatrixCore
import NIOCore

/// Sends one request to another server: resolves it, signs it (X-Matrix), applies the
/// timeouts and the per-destination backoff, and returns the answer.
final class FederationTransport: Sendable {
    let origin: ServerName
    let signingKey: SigningKey
    let config: FederationClientConfig
    let clients: HTTPClients
    let resolver: ServerResolver
    let backoff: DestinationBackoff
    let logger: Logger

    init(origin: ServerName, signingKey: SigningKey, config: FederationClientConfig, logger: Logger) {
        self.origin = origin
        self.signingKey = signingKey
        self.config = config
        self.logger = logger
        clients = HTTPClients(config: config)
        let wk = WellKnownResolver(clients: clients, port: config.wellKnownPort, timeout: .seconds(10), logger: logger)
        resolver = ServerResolver(wellKnown: wk, srv: SRVResolver(nameservers: config.nameservers))
        backoff = DestinationBackoff(initial: config.initialBackoff, maximum: config.maxBackoff)
    }

    /// `uri` is the full request target (`FederationPath.target`). Unsigned requests are for
    /// the key API, which takes no authentication.
    func send(_ method: String, to destination: ServerName, uri: String, body: JSON?, signed: Bool,
              timeout: Duration?) async throws(FederationError) -> FederationResponse {
        guard destination != origin else { throw .invalidDestination(destination.rawValue) }
        let dest = destination.rawValue
        try await backoff.check(dest)
        let target = await resolver.resolve(destination)
        var request = HTTPClientRequest(url: "https://\(target.urlAuthority)\(uri)")
        request.method = .init(rawValue: method)
        request.headers.add(name: "Host", value: target.hostHeader)
        request.headers.add(name: "User-Agent", value: "Myelin")
        if signed {
            let auth = SignedRequest(method: method, uri: uri, origin: origin.rawValue, destination: dest, content: body)
                .authorization(signedBy: signingKey)
            request.headers.add(name: "Authorization", value: auth.headerValue)
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.canonicalBytes))
        }
        let client = await clients.client(tlsName: target.tlsName ?? target.host, connectHost: target.host)
        let limit = timeout ?? config.requestTimeout
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .nanoseconds(limit.nanoseconds), logger: logger)
        } catch {
            await backoff.failed(dest)
            logger.info("federation \(method) \(dest)\(uri.prefix(80)) failed: \(error)")
            throw .unreachable(destination: dest, reason: String(describing: error))
        }
        let bytes: ByteBuffer
        do {
            bytes = try await response.body.collect(upTo: config.maxResponseBytes)
        } catch {
            throw .invalidResponse("reading the answer of \(dest) failed: \(error)")
        }
        await backoff.succeeded(dest)
        return FederationResponse(status: Int(response.status.code), body: Array(bytes.readableBytesView))
    }
}
