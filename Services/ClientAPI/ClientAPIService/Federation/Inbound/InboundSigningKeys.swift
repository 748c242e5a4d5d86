import MatrixCore
import ServiceKit
import Storage

/// `m.signing_key_update` EDUs: one of the origin's users has new master or self-signing
/// keys. They are kept (checked for shape, the self-signing key under its master key), and
/// local users sharing a room see the user in `device_lists.changed` and refetch.
extension ClientAPI {
    func receiveSigningKeyUpdate(_ content: JSON, from origin: ServerName) async throws {
        guard let user = content["user_id"]?.stringValue, UserID(user)?.server == origin else { return }
        let locals = try await keyStore.usersSharingRoom(with: user).filter(isLocalUser)
        guard !locals.isEmpty else { return }
        guard let pos = try await storeRemoteCrossSigningKeys(user, master: content["master_key"],
                                                              selfSigning: content["self_signing_key"]) else { return }
        announce(StreamNotice(pos: pos, users: locals))
    }

    /// Stores another server's user's master and self-signing keys when they are well formed
    /// and new; returns the position of the change, nil when nothing changed.
    func storeRemoteCrossSigningKeys(_ user: String, master: JSON?, selfSigning: JSON?) async throws -> Int64? {
        var given: [String: CrossSigningKey] = [:]
        if let m = master?.objectValue { given["master"] = try CrossSigningKey(m, type: "master", userID: user) }
        if let s = selfSigning?.objectValue { given["self_signing"] = try CrossSigningKey(s, type: "self_signing", userID: user) }
        guard !given.isEmpty else { return nil }
        let stored = try await keyStore.crossSigningKeys(user)
        if let s = given["self_signing"] {
            let masterKey = given["master"]?.verifyKey
                ?? stored["master"].flatMap { VerifyKey(keyID: "ed25519:" + $0.publicKey, base64: $0.publicKey) }
            guard let masterKey, s.json.hasValidSignature(of: user, with: masterKey) else {
                throw MatrixError(.badRequest, "M_INVALID_SIGNATURE", "The self-signing key of \(user) is not signed by its master key")
            }
        }
        let changes = given.filter { stored[$0.key]?.json != $0.value.json.canonicalString }
        guard !changes.isEmpty else { return nil }
        return try await keyStore.setCrossSigningKeys(user, changes.mapValues { ($0.publicKey, $0.json.canonicalString) })
    }
}
