import MatrixCore
import ServiceKit
import Storage

/// The server's own signing keys (`/_matrix/key/v2/server`) and `/federation/v1/version`:
/// what another server asks first.
extension ClientAPI {
    /// How long other servers may cache our key response.
    static let keyValidityMs: Int64 = 24 * 3_600_000

    /// Our key response, signed by our key: served directly and by the notary endpoints.
    func ownKeyResponse() throws -> JSON {
        let server = serverName.rawValue
        let body: JSON = [
            "server_name": .string(server),
            "valid_until_ts": .int(nowMillis() + Self.keyValidityMs),
            "verify_keys": .object([signingKey.keyID: ["key": .string(signingKey.verifyKey.base64)]]),
            "old_verify_keys": [:],
        ]
        do {
            return try body.signed(by: signingKey, as: server)
        } catch {
            throw MatrixError.unknown("Could not sign the key response")
        }
    }

    func serverKeyRoutes() -> RouteTable {
        var t = RouteTable()
        let keys: RouteTable.Handler = { [self] _ in .json(try ownKeyResponse()) }
        t.get("/_matrix/key/v2/server", access: .open, keys)
        // Deprecated form with a key ID; the answer is the same.
        t.get("/_matrix/key/v2/server/:keyId", access: .open, keys)
        t.get("/_matrix/federation/v1/version", access: .open) { _ in
            .json(["server": ["name": "Myelin", "version": .string(MyelinVersion.current)]])
        }
        t.merge(notaryRoutes())
        return t
    }
}

enum MyelinVersion {
    static let current = "0.1.0"
}
