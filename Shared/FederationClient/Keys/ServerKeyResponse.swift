import MatrixCore
import Storage

/// A checked `/_matrix/key/v2/server` answer: for the server asked, signed by every key it
/// lists as current.
public struct ServerKeyResponse: Sendable {
    /// Keys used past this are no longer trusted: the lesser of the server's own
    /// `valid_until_ts` and seven days after the fetch (spec, keys.yaml).
    public static let maxValidityMs: Int64 = 7 * 24 * 3_600_000

    public let serverName: String
    public let json: JSON
    /// As the server gave it (the notary serves it on).
    public let validUntilTS: Int64
    public let keys: [StoredServerKey]

    public static func validate(_ json: JSON, server: String, fetchedTS: Int64) throws(KeyResponseError) -> ServerKeyResponse {
        guard json.objectValue != nil else { throw .malformed("not a JSON object") }
        guard json["server_name"]?.stringValue == server else { throw .wrongServer(json["server_name"]?.stringValue ?? "") }
        guard let until = json["valid_until_ts"]?.intValue, until >= 0 else { throw .malformed("no valid_until_ts") }
        guard let current = json["verify_keys"]?.objectValue, !current.isEmpty else { throw .malformed("no verify_keys") }
        let cappedUntil = min(until, fetchedTS + maxValidityMs)
        var keys: [StoredServerKey] = []
        for (keyID, entry) in current.sorted(by: { $0.key < $1.key }) {
            guard keyID.hasPrefix(SigningKey.algorithm + ":"), let b64 = entry["key"]?.stringValue,
                  let key = VerifyKey(keyID: keyID, base64: b64) else { throw .malformed("verify key \(keyID) is unusable") }
            guard json.hasValidSignature(of: server, with: key) else { throw .badSignature(keyID) }
            keys.append(StoredServerKey(serverName: server, keyID: keyID, verifyKey: key.base64, validUntilTS: cappedUntil,
                                        expiredTS: nil))
        }
        for (keyID, entry) in (json["old_verify_keys"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard current[keyID] == nil, keyID.hasPrefix(SigningKey.algorithm + ":"), let b64 = entry["key"]?.stringValue,
                  let key = VerifyKey(keyID: keyID, base64: b64), let expired = entry["expired_ts"]?.intValue else { continue }
            keys.append(StoredServerKey(serverName: server, keyID: keyID, verifyKey: key.base64, validUntilTS: expired,
                                        expiredTS: expired))
        }
        return ServerKeyResponse(serverName: server, json: json, validUntilTS: until, keys: keys)
    }
}

public enum KeyResponseError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case wrongServer(String)
    case badSignature(String)

    public var description: String {
        switch self {
        case .malformed(let m): return "key response malformed: \(m)"
        case .wrongServer(let s): return "key response is for \(s)"
        case .badSignature(let k): return "key response is not signed by \(k)"
        }
    }
}

extension StoredServerKey {
    /// Whether a signature made at `ts` may be checked with this key: current keys until
    /// their validity ends, old keys only for what was signed before they expired.
    public func isValid(at ts: Int64) -> Bool {
        if let expiredTS { return ts < expiredTS }
        return ts <= validUntilTS
    }
}
