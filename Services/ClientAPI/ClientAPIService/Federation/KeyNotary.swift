import MatrixCore
import ServiceKit
import Storage

/// The notary key API (`/_matrix/key/v2/query`): other servers' key responses as we fetched
/// them, with our signature added. Unauthenticated, like the rest of the key API.
extension ClientAPI {
    /// At most this many servers per batch query, so one request cannot fan out without bound.
    static let maxNotaryServers = 50

    func notaryRoutes() -> RouteTable {
        var t = RouteTable()
        t.get("/_matrix/key/v2/query/:serverName", access: .open) { [self] req in
            let server = try notaryServer(try req.param("serverName"))
            let minimum = try req.queryInt("minimum_valid_until_ts").map(Int64.init) ?? nowMillis()
            let responses = try await notarise([server: minimum])
            return .json(["server_keys": .array(responses)])
        }
        t.post("/_matrix/key/v2/query", access: .open) { [self] req in
            let body = try req.jsonBody()
            guard let wanted = try body.object("server_keys") else { throw MatrixError.badJSON("server_keys is required") }
            guard wanted.count <= Self.maxNotaryServers else {
                throw MatrixError.invalidParam("At most \(Self.maxNotaryServers) servers per query")
            }
            var criteria: [ServerName: Int64] = [:]
            for (name, keys) in wanted {
                let server = try notaryServer(name)
                guard let keys = keys.objectValue else { throw MatrixError.badJSON("server_keys.\(name) must be an object") }
                // The strictest minimum over the key IDs asked for; the key IDs themselves
                // only narrow what the server may return, and all keys are returned.
                var minimum = nowMillis()
                for (keyID, c) in keys {
                    guard let c = c.objectValue else { throw MatrixError.badJSON("server_keys.\(name).\(keyID) must be an object") }
                    if let m = try c.int("minimum_valid_until_ts") { minimum = max(minimum, m) }
                }
                criteria[server] = max(criteria[server] ?? 0, minimum)
            }
            return .json(["server_keys": .array(try await notarise(criteria))])
        }
        return t
    }

    private func notaryServer(_ name: String) throws -> ServerName {
        guard let s = ServerName(name) else { throw MatrixError.invalidParam("\(name) is not a server name") }
        return s
    }

    /// One signed response per server that answered now or earlier; our own comes straight
    /// from our key. Servers are asked concurrently.
    private func notarise(_ criteria: [ServerName: Int64]) async throws -> [JSON] {
        let own = try ownKeyResponse()
        let keys = federation.keys
        let fetched = await withTaskGroup(of: JSON?.self) { group in
            for (server, minimum) in criteria where server != serverName {
                group.addTask { await keys.keyResponse(server: server, minimumValidUntil: minimum) }
            }
            var out: [JSON] = []
            for await r in group { if let r { out.append(r) } }
            return out
        }
        var out = criteria.keys.contains(serverName) ? [own] : []
        for response in fetched {
            guard let signed = try? response.signed(by: signingKey, as: serverName.rawValue) else { continue }
            out.append(signed)
        }
        return out
    }
}
