import Crypto
import Foundation

/// A server's ed25519 signing key. Its key ID is `ed25519:<version>`, the form used in
/// `signatures` objects and in `/_matrix/key/v2/server` responses.
public struct SigningKey: Sendable {
    public static let algorithm = "ed25519"

    /// The part after `ed25519:`, for example `a_AbCd`.
    public let version: String
    private let privateKey: Curve25519.Signing.PrivateKey

    /// Builds the key from its 32-byte seed (the ed25519 private key as NaCl stores it).
    public init(seed: some Sequence<UInt8>, version: String) throws(SigningKeyError) {
        let bytes = Array(seed)
        guard bytes.count == 32 else { throw .invalidSeedLength(bytes.count) }
        guard SigningKey.isValidVersion(version) else { throw .invalidVersion(version) }
        do {
            privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
        } catch {
            throw .invalidSeedLength(bytes.count)
        }
        self.version = version
    }

    /// A fresh random key; the default version follows the common `a_XXXX` shape.
    public static func generate(version: String? = nil) throws(SigningKeyError) -> SigningKey {
        let seed = Curve25519.Signing.PrivateKey().rawRepresentation
        return try SigningKey(seed: seed, version: version ?? "a_" + OpaqueID.generate(length: 4))
    }

    /// `ed25519:<version>`.
    public var keyID: String { "\(SigningKey.algorithm):\(version)" }

    /// The 32-byte seed, for saving the key.
    public var seed: [UInt8] { Array(privateKey.rawRepresentation) }

    public var verifyKey: VerifyKey {
        VerifyKey(keyID: keyID, publicKey: privateKey.publicKey)
    }

    /// The raw 64-byte ed25519 signature of `message`.
    public func sign(_ message: some Sequence<UInt8>) -> [UInt8] {
        do {
            return Array(try privateKey.signature(for: Array(message)))
        } catch {
            // Signing with a valid in-memory key has no failure mode in practice;
            // a crash is better than an unsigned event leaving the server.
            fatalError("ed25519 signing failed: \(error)")
        }
    }

    /// Key versions are restricted to `[A-Za-z0-9_]`, as the key ID grammar and the
    /// key file format (space separated) expect.
    public static func isValidVersion(_ version: String) -> Bool {
        !version.isEmpty && version.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
        }
    }
}

public enum SigningKeyError: Error, Sendable, Equatable {
    case invalidSeedLength(Int)
    case invalidVersion(String)
    case invalidBase64
    case unsupportedAlgorithm(String)
    case malformedLine(String)
}
