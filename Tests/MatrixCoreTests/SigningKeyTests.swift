import Testing
@testable import MatrixCore

@Suite struct SigningKeyTests {
    /// The spec's seed string has non-zero bits in its last character, so its canonical
    /// encoding ends in `0` rather than `1`; decoders must tolerate that.
    static let canonicalSpecSeed = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0"

    @Test func specSeedGivesKeyIDAndRoundTrips() throws {
        let key = try SpecSigningKey.make()
        #expect(key.keyID == SpecSigningKey.keyID)
        #expect(key.seed == Base64.decode(SpecSigningKey.seedBase64))
        #expect(Base64.encodeUnpadded(key.seed) == Self.canonicalSpecSeed)
        #expect(key.verifyKey.bytes.count == 32)
    }

    @Test func signatureVerifiesAndTamperingIsDetected() throws {
        let key = try SigningKey.generate()
        let message = Array("hello".utf8)
        let signature = key.sign(message)
        #expect(signature.count == 64)
        #expect(key.verifyKey.isValidSignature(signature, for: message))
        #expect(!key.verifyKey.isValidSignature(signature, for: Array("hellp".utf8)))
        let other = try SigningKey.generate()
        #expect(!other.verifyKey.isValidSignature(signature, for: message))
    }

    @Test func generatedVersionHasCommonShape() throws {
        let key = try SigningKey.generate()
        #expect(key.version.hasPrefix("a_"))
        #expect(key.version.count == 6)
        #expect(key.keyID == "ed25519:" + key.version)
    }

    @Test func keyFileLineMatchesTheSharedFormat() throws {
        let key = try SpecSigningKey.make()
        #expect(key.keyFileLine == "ed25519 1 \(Self.canonicalSpecSeed)\n")
    }

    @Test func keyFileRoundTripsSeveralKeys() throws {
        let a = try SigningKey.generate(version: "a_AbCd")
        let b = try SigningKey.generate(version: "old_1")
        let parsed = try SigningKey.parseKeyFile(a.keyFileLine + "\n" + b.keyFileLine)
        #expect(parsed.map(\.keyID) == ["ed25519:a_AbCd", "ed25519:old_1"])
        #expect(parsed.map(\.seed) == [a.seed, b.seed])
        #expect(parsed[0].verifyKey == a.verifyKey)
    }

    @Test func keyFileAcceptsPaddedSeedAndTrailingWhitespace() throws {
        let padded = SpecSigningKey.seedBase64 + "="
        let parsed = try SigningKey.parseKeyFile("ed25519 a_XRhW \(padded)  \r\n")
        #expect(parsed.count == 1)
        #expect(parsed[0].seed == Base64.decode(SpecSigningKey.seedBase64))
        #expect(parsed[0].keyID == "ed25519:a_XRhW")
    }

    @Test func keyFileRejectsBadLines() {
        #expect(throws: SigningKeyError.unsupportedAlgorithm("curve448")) {
            try SigningKey.parseKeyFile("curve448 1 \(SpecSigningKey.seedBase64)")
        }
        #expect(throws: SigningKeyError.malformedLine("ed25519 1")) {
            try SigningKey.parseKeyFile("ed25519 1")
        }
        #expect(throws: SigningKeyError.invalidSeedLength(6)) {
            try SigningKey.parseKeyFile("ed25519 1 Zm9vYmFy")
        }
        #expect(throws: SigningKeyError.invalidVersion("a:b")) {
            try SigningKey(seed: [UInt8](repeating: 1, count: 32), version: "a:b")
        }
    }

    @Test func verifyKeyFromBase64RoundTrips() throws {
        let key = try SpecSigningKey.make()
        let published = key.verifyKey.base64
        let parsed = try #require(VerifyKey(keyID: key.keyID, base64: published))
        #expect(parsed == key.verifyKey)
        #expect(VerifyKey(keyID: key.keyID, base64: "Zm9v") == nil)
    }
}
