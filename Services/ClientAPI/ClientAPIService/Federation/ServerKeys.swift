import MatrixCore
import ServiceKit
import Storage

/// The server's own signing keys (`/_matrix/key/v2/server`) and `/federation/v1/version`:
/// what another server asks first.
extension ClientAPI {
    /// How long other servers may cache our key response.
    static let keyValidityMs: Int64 = 24 * 3_600_000

    func serverKeyRoutes() -> RouteTable {
        var t = RouteTable()
        let server = serverName.rawValue
        let key = signingKey
        let keys: RouteTable.Handler = { _ in
            let body: JSON = [
                "server_name": .string(server),
                "valid_until_ts": .int(nowMillis() + Self.keyValidityMs),
                "verify_keys": .object([key.keyID: ["key": .string(key.verifyKey.base64)]]),
                "old_verify_keys": [:],
            ]
            do {
                return .json(try body.signed(by: key, as: server))
            } catch {
                throw MatrixError.unknown("Could not sign the key response")
            }
        }
        t.get("/_matrix/key/v2/server", access: .open, keys)
        // Deprecated form with a key ID; the answer is the same.
        t.get("/_matrix/key/v2/server/:keyId", access: .open, keys)
        t.get("/_matrix/federation/v1/version", access: .open) { _ in
            .json(["server": ["name": "Myelin", "version": .string(MyelinVersion.current)]])
        }
        return t
    }
}

enum MyelinVersion {
    static let current = "0.1.0"
}
