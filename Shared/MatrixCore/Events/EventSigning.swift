import Crypto

/// Hashing and signing of events (server-server spec, "Signing Events"): the content hash
/// goes into `hashes.sha256`, and the signature covers the *redacted* event so that it stays
/// checkable after a redaction.
extension JSON {
    /// A copy with `hashes.sha256` set to the unpadded Base64 content hash.
    public func addingContentHash() throws(JSONSignatureError) -> JSON {
        guard let hash = contentHash, case .object(var event) = self else { throw .notAnObject }
        event["hashes"] = ["sha256": .string(Base64.encodeUnpadded(hash))]
        return .object(event)
    }

    /// A copy carrying `server`'s signature over the redacted event, alongside any signatures
    /// already there (e.g. a resident server co-signing a join).
    public func addingEventSignature(for version: RoomVersion, server: String, key: SigningKey) throws(JSONSignatureError) -> JSON {
        try signedOverRedaction(for: version, server: server, key: key).event
    }

    /// Content hash then signature: what the spec's `hash_and_sign_event` does.
    public func hashedAndSigned(for version: RoomVersion, server: String, key: SigningKey) throws(JSONSignatureError) -> JSON {
        try addingContentHash().addingEventSignature(for: version, server: server, key: key)
    }

    /// `hashedAndSigned`, with the event's reference hash: the bytes signed (the redacted
    /// event without signatures) are the bytes the reference hash is taken of, so the event
    /// is redacted and encoded once for both.
    func hashedSignedAndHashed(for version: RoomVersion, server: String,
                               key: SigningKey) throws(JSONSignatureError) -> (event: JSON, referenceHash: [UInt8]) {
        let (signed, bytes) = try addingContentHash().signedOverRedaction(for: version, server: server, key: key)
        return (signed, Array(SHA256.hash(data: bytes)))
    }

    /// `addingEventSignature`, with the bytes signed: the redacted event without signatures.
    private func signedOverRedaction(for version: RoomVersion, server: String,
                                     key: SigningKey) throws(JSONSignatureError) -> (event: JSON, signedBytes: [UInt8]) {
        guard case .object = self, let bytes = redacted(for: version).signableBytes else { throw .notAnObject }
        return (try addingSignature(Base64.encodeUnpadded(key.sign(bytes)), keyID: key.keyID, entity: server), bytes)
    }

    /// Checks `server`'s signature on the event. The event is redacted first, so this
    /// succeeds for the full event and for a redacted copy alike.
    public func verifyEventSignature(for version: RoomVersion, server: String, key: VerifyKey) throws(JSONSignatureError) {
        guard case .object = self else { throw .notAnObject }
        try redacted(for: version).verifySignature(of: server, with: key)
    }
}
