import Foundation
import Logging
import MatrixCore
import Storage

/// Other servers' signing keys: in memory, then Postgres, then fetched from the server's
/// own `/_matrix/key/v2/server` (checking its self-signature). One fetch per server runs
/// at a time, and a server is asked again no sooner than `refetchInterval` after the last
/// time, so a peer sending unknown key IDs cannot make us hammer anyone.
public actor ServerKeyRing {
    public static let refetchIntervalMs: Int64 = 30_000

    private let transport: FederationTransport
    private let store: ServerKeyStore
    private let logger: Logger
    private var memory: [String: [String: StoredServerKey]] = [:]
    private var loadedFromStore: Set<String> = []
    private var fetching: [String: Task<Result<ServerKeyResponse, KeyLookupError>, Never>] = [:]
    private var lastFetchMs: [String: Int64] = [:]

    init(transport: FederationTransport, store: ServerKeyStore, logger: Logger) {
        self.transport = transport
        self.store = store
        self.logger = logger
    }

    /// The key `keyID` of `server`, valid for a signature made at `ts` (milliseconds).
    public func verifyKey(server: ServerName, keyID: String, validAt ts: Int64) async throws(KeyLookupError) -> VerifyKey {
        let name = server.rawValue
        if name == transport.origin.rawValue {
            guard keyID == transport.signingKey.keyID else { throw .notFound(server: name, keyID: keyID) }
            return transport.signingKey.verifyKey
        }
        if let k = try await known(name, keyID), k.isValid(at: ts) { return try Self.decoded(k) }
        let now = Self.nowMs()
        if let last = lastFetchMs[name], now - last < Self.refetchIntervalMs, fetching[name] == nil {
            throw memory[name]?[keyID] == nil ? .notFound(server: name, keyID: keyID) : .expired(server: name, keyID: keyID)
        }
        if case .failure(let e) = await fetch(server) { throw e }
        guard let k = memory[name]?[keyID] else { throw .notFound(server: name, keyID: keyID) }
        guard k.isValid(at: ts) else { throw .expired(server: name, keyID: keyID) }
        return try Self.decoded(k)
    }

    /// The server's own signed key response, fresh enough to be valid until
    /// `minimumValidUntil`: from cache while it is within half its lifetime, fetched
    /// otherwise, and the last one received when the server cannot be reached (the notary).
    public func keyResponse(server: ServerName, minimumValidUntil: Int64) async -> JSON? {
        let name = server.rawValue
        let now = Self.nowMs()
        let stored = try? await store.response(of: name)
        // Half its lifetime, computed without overflow whatever the stored numbers are.
        if let s = stored, s.validUntilTS >= minimumValidUntil, now < s.fetchedTS / 2 + s.validUntilTS / 2,
           let json = try? JSON.parse(s.json) {
            return json
        }
        if let last = lastFetchMs[name], now - last < Self.refetchIntervalMs, fetching[name] == nil {
            return stored.flatMap { try? JSON.parse($0.json) }
        }
        switch await fetch(server) {
        case .success(let r): return r.json
        case .failure: return stored.flatMap { try? JSON.parse($0.json) }
        }
    }

    /// A known key, from memory or (once per server) from Postgres.
    private func known(_ server: String, _ keyID: String) async throws(KeyLookupError) -> StoredServerKey? {
        if let k = memory[server]?[keyID] { return k }
        guard !loadedFromStore.contains(server) else { return nil }
        do {
            let rows = try await store.keys(of: server)
            for k in rows where memory[server]?[k.keyID] == nil { memory[server, default: [:]][k.keyID] = k }
            loadedFromStore.insert(server)
        } catch {
            throw .storage(String(describing: error))
        }
        return memory[server]?[keyID]
    }

    private func fetch(_ server: ServerName) async -> Result<ServerKeyResponse, KeyLookupError> {
        let name = server.rawValue
        if let t = fetching[name] {
            // Another caller started this fetch; whichever of us resumes first must find
            // the keys in memory, so both record them.
            let result = await t.value
            if case .success(let r) = result { remember(r, of: name) }
            return result
        }
        let transport = self.transport, store = self.store
        let task = Task { await Self.download(server, transport: transport, store: store) }
        fetching[name] = task
        let result = await task.value
        fetching[name] = nil
        lastFetchMs[name] = Self.nowMs()
        switch result {
        case .success(let r):
            remember(r, of: name)
        case .failure(let e):
            logger.info("fetching the keys of \(name) failed: \(e)")
        }
        return result
    }

    private func remember(_ r: ServerKeyResponse, of name: String) {
        for k in r.keys { memory[name, default: [:]][k.keyID] = k }
    }

    private static func download(_ server: ServerName, transport: FederationTransport,
                                 store: ServerKeyStore) async -> Result<ServerKeyResponse, KeyLookupError> {
        let fetched = nowMs()
        let json: JSON
        do {
            json = try await transport.send("GET", to: server, uri: "/_matrix/key/v2/server", body: nil, signed: false,
                                            timeout: .seconds(20)).requireJSON()
        } catch {
            return .failure(.fetchFailed(server: server.rawValue, reason: error.description))
        }
        let response: ServerKeyResponse
        do {
            response = try ServerKeyResponse.validate(json, server: server.rawValue, fetchedTS: fetched)
        } catch {
            return .failure(.fetchFailed(server: server.rawValue, reason: error.description))
        }
        do {
            try await store.store(server: server.rawValue, responseJSON: json.canonicalString, validUntilTS: response.validUntilTS,
                                  fetchedTS: fetched, keys: response.keys)
        } catch {
            return .failure(.storage(String(describing: error)))
        }
        return .success(response)
    }

    private static func decoded(_ k: StoredServerKey) throws(KeyLookupError) -> VerifyKey {
        guard let key = VerifyKey(keyID: k.keyID, base64: k.verifyKey) else {
            throw .notFound(server: k.serverName, keyID: k.keyID)
        }
        return key
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

public enum KeyLookupError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(server: String, keyID: String)
    case expired(server: String, keyID: String)
    case fetchFailed(server: String, reason: String)
    case storage(String)

    public var description: String {
        switch self {
        case .notFound(let s, let k): return "\(s) has no key \(k)"
        case .expired(let s, let k): return "key \(k) of \(s) is no longer valid"
        case .fetchFailed(let s, let r): return "could not fetch the keys of \(s): \(r)"
        case .storage(let m): return "key storage failed: \(m)"
        }
    }
}
