import Testing
@testable import MatrixCore

/// The key of the spec's "Cryptographic Test Vectors": seed, server name and key ID.
enum SpecSigningKey {
    static let seedBase64 = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"
    static let serverName = "domain"
    static let keyID = "ed25519:1"

    static func make() throws -> SigningKey {
        let seed = try #require(Base64.decode(seedBase64))
        return try SigningKey(seed: seed, version: "1")
    }
}
