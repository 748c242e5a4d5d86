/// Signing and verifying JSON objects (spec appendix "Signing JSON"): the signature
/// covers the canonical encoding of the object without `signatures` and `unsigned`,
/// so other parties can add their own signatures and unsigned data afterwards.
extension JSON {
    /// The bytes a signature covers: canonical JSON without `signatures` and `unsigned`.
    /// Nil when this is not an object.
    public var signableBytes: [UInt8]? {
        guard case .object(var object) = self else { return nil }
        object["signatures"] = nil
        object["unsigned"] = nil
        return JSON.object(object).canonicalBytes
    }

    /// A copy with `key`'s signature added under `signatures[entity][key.keyID]`,
    /// keeping every signature already present.
    public func signed(by key: SigningKey, as entity: String) throws(JSONSignatureError) -> JSON {
        guard let bytes = signableBytes else { throw .notAnObject }
        let signature = Base64.encodeUnpadded(key.sign(bytes))
        return try addingSignature(signature, keyID: key.keyID, entity: entity)
    }

    /// A copy with a ready-made signature inserted under `signatures[entity][keyID]`.
    /// Used to copy a signature made over a redacted event back onto the full event.
    public func addingSignature(_ signature: String, keyID: String, entity: String) throws(JSONSignatureError) -> JSON {
        guard case .object(var object) = self else { throw .notAnObject }
        var signatures = object["signatures"]?.objectValue ?? [:]
        var byEntity = signatures[entity]?.objectValue ?? [:]
        byEntity[keyID] = .string(signature)
        signatures[entity] = .object(byEntity)
        object["signatures"] = .object(signatures)
        return .object(object)
    }

    /// The signatures `entity` made, by key ID, as Base64 strings.
    public func signatures(of entity: String) -> [String: String] {
        guard let byEntity = self["signatures"]?[entity]?.objectValue else { return [:] }
        return byEntity.compactMapValues(\.stringValue)
    }

    /// Key IDs of `entity`'s signatures whose algorithm this server understands (ed25519);
    /// these are the keys to fetch before calling `verifySignature`.
    public func signatureKeyIDs(of entity: String) -> [String] {
        signatures(of: entity).keys
            .filter { $0.hasPrefix(SigningKey.algorithm + ":") }
            .sorted()
    }

    /// Checks `entity`'s signature by `key` (spec "Checking for a Signature").
    /// Throws the reason on failure so callers can log why an event was refused.
    public func verifySignature(of entity: String, with key: VerifyKey) throws(JSONSignatureError) {
        guard let bytes = signableBytes else { throw .notAnObject }
        guard let encoded = self["signatures"]?[entity]?[key.keyID]?.stringValue else {
            throw .missingSignature(entity: entity, keyID: key.keyID)
        }
        guard let signature = Base64.decode(encoded) else { throw .invalidBase64 }
        guard key.isValidSignature(signature, for: bytes) else { throw .badSignature(entity: entity, keyID: key.keyID) }
    }

    /// Boolean form of `verifySignature(of:with:)`.
    public func hasValidSignature(of entity: String, with key: VerifyKey) -> Bool {
        (try? verifySignature(of: entity, with: key)) != nil
    }
}

public enum JSONSignatureError: Error, Sendable, Equatable {
    case notAnObject
    case missingSignature(entity: String, keyID: String)
    case invalidBase64
    case badSignature(entity: String, keyID: String)
}
