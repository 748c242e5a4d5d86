import Crypto
import Foundation

/// Verifies the `signed` block of a third-party invite against the public keys the
/// identity server published in the `m.room.third_party_invite` event.
enum ThirdPartyInviteSignature {
    /// True if any ed25519 signature in `signed` verifies with any of the invite's keys.
    static func verify(signed: JSON, invite: Event) -> Bool {
        guard var payload = signed.objectValue, let signatures = payload["signatures"]?.objectValue else { return false }
        payload["signatures"] = nil
        payload["unsigned"] = nil
        let message = Data(JSON.object(payload).canonicalBytes)
        let keys = publicKeys(of: invite)
        for (_, byKeyID) in signatures {
            for (keyID, signatureValue) in byKeyID.objectValue ?? [:] where keyID.hasPrefix("ed25519:") {
                guard let signature = signatureValue.stringValue.flatMap(decodeBase64) else { continue }
                for key in keys where key.isValidSignature(signature, for: message) {
                    return true
                }
            }
        }
        return false
    }

    /// `content.public_key` and every `content.public_keys[].public_key`.
    static func publicKeys(of invite: Event) -> [Curve25519.Signing.PublicKey] {
        var encoded: [String] = []
        if let key = invite.content["public_key"]?.stringValue { encoded.append(key) }
        for entry in invite.content["public_keys"]?.arrayValue ?? [] {
            if let key = entry["public_key"]?.stringValue { encoded.append(key) }
        }
        return encoded.compactMap { string in
            decodeBase64(string).flatMap { try? Curve25519.Signing.PublicKey(rawRepresentation: $0) }
        }
    }

    /// Matrix uses unpadded base64; identity servers have also been seen using the
    /// URL-safe alphabet, so both are accepted.
    static func decodeBase64(_ string: String) -> Data? {
        (Base64.decode(string) ?? Base64.decodeURLSafe(string)).map { Data($0) }
    }
}
