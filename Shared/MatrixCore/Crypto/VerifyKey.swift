import Crypto
import Foundation

/// The public half of an ed25519 signing key, as published by a server under a key ID.
public struct VerifyKey: Sendable, Hashable {
    /// `ed25519:<version>`.
    public let keyID: String
    /// The 32 raw public key bytes.
    public let bytes: [UInt8]

    init(keyID: String, publicKey: Curve25519.Signing.PublicKey) {
        self.keyID = keyID
        self.bytes = Array(publicKey.rawRepresentation)
    }

    /// From raw bytes; nil unless there are exactly 32 of them.
    public init?(keyID: String, bytes: some Sequence<UInt8>) {
        let raw = Array(bytes)
        guard raw.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else { return nil }
        self.keyID = keyID
        self.bytes = raw
    }

    /// From the unpadded Base64 string found in key server responses.
    public init?(keyID: String, base64: String) {
        guard let raw = Base64.decode(base64) else { return nil }
        self.init(keyID: keyID, bytes: raw)
    }

    /// The key as published: unpadded standard Base64.
    public var base64: String { Base64.encodeUnpadded(bytes) }

    /// True when `signature` is a valid ed25519 signature of `message` by this key.
    public func isValidSignature(_ signature: some Sequence<UInt8>, for message: some Sequence<UInt8>) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes) else { return false }
        return key.isValidSignature(Array(signature), for: Array(message))
    }
}
