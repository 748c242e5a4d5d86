import MatrixCore
import ServiceKit
import Storage

/// Cross-signing keys and signatures (spec "Cross-signing"; first upload without UIA per MSC3967).
extension ClientAPI {
    func crossSigningRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/v3/keys/device_signing/upload") { [self] req in try await uploadCrossSigningKeys(req) }
        t.post("/_matrix/client/v3/keys/signatures/upload") { [self] req in try await uploadSignatures(req) }
        return t
    }

    private func uploadCrossSigningKeys(_ req: MatrixRequest) async throws -> MatrixResponse {
        let body = try req.jsonBody()
        let userID = req.user.userID
        let stored = try await keyStore.crossSigningKeys(userID)
        var uploaded: [String: CrossSigningKey] = [:]
        for type in ["master", "self_signing", "user_signing"] {
            if let object = try body.object("\(type)_key") { uploaded[type] = try CrossSigningKey(object, type: type, userID: userID) }
        }
        guard !uploaded.isEmpty else { throw MatrixError.missingParam("No cross-signing keys given") }
        // The sub-keys must be signed by the master key they will sit under.
        let masterKey = uploaded["master"]?.verifyKey ?? stored["master"].flatMap { VerifyKey(keyID: "ed25519:" + $0.publicKey, base64: $0.publicKey) }
        for type in ["self_signing", "user_signing"] {
            guard let key = uploaded[type] else { continue }
            guard let masterKey else { throw MatrixError.invalidParam("Upload a master key before \(type) keys") }
            guard key.json.hasValidSignature(of: userID, with: masterKey) else {
                throw MatrixError(.badRequest, "M_INVALID_SIGNATURE", "The \(type) key is not signed by the master key")
            }
        }
        let changes = uploaded.filter { stored[$0.key]?.json != $0.value.json.canonicalString }
        guard !changes.isEmpty else { return .empty }
        // Replacing an existing identity needs the password; setting up the first one does not.
        if stored["master"] != nil {
            _ = try await requireUIA(body, userID: userID, flows: [["m.login.password"]])
        }
        let pos = try await keyStore.setCrossSigningKeys(userID, changes.mapValues { ($0.publicKey, $0.json.canonicalString) })
        await announceKeyChange(userID, pos)
        // Other servers see the master and self-signing keys; the user-signing key is private.
        if changes["master"] != nil || changes["self_signing"] != nil { await publishSigningKeyUpdate(userID) }
        return .empty
    }

    private func uploadSignatures(_ req: MatrixRequest) async throws -> MatrixResponse {
        let signer = req.user.userID
        let body = try req.jsonBody()
        let signerCrossKeys = try await keyStore.crossSigningKeys(signer)
        var accepted: [KeySignature] = []
        var failures: [String: [String: JSON]] = [:]
        for (targetUser, keys) in body {
            guard let keys = keys.objectValue else { throw MatrixError.badJSON("\(targetUser) must map key IDs to signed keys") }
            for (keyID, signed) in keys {
                do {
                    accepted += try await checkSignatures(signed, targetUser: targetUser, keyID: keyID, signer: signer, signerCrossKeys: signerCrossKeys)
                } catch let e as MatrixError {
                    failures[targetUser, default: [:]][keyID] = ["errcode": .string(e.errcode), "error": .string(e.message)]
                }
            }
        }
        if let pos = try await keyStore.addSignatures(accepted) {
            for u in Set(accepted.map(\.targetUser)) { await announceKeyChange(u, pos) }
        }
        return .json(["failures": .object(failures.mapValues { .object($0) })])
    }

    /// The new signatures by `signer` on one key, each verified against the signer's key it
    /// names and made over exactly the key the server holds.
    private func checkSignatures(_ signed: JSON, targetUser: String, keyID: String, signer: String,
                                 signerCrossKeys: [String: (publicKey: String, json: String)]) async throws -> [KeySignature] {
        guard signed.objectValue != nil else { throw MatrixError.badJSON("A signed key must be an object") }
        guard isLocalUser(targetUser) else { throw MatrixError(.badRequest, "M_UNRECOGNIZED", "Signing remote keys needs federation") }
        guard let stored = try await storedKey(targetUser, keyID, viewer: signer) else {
            throw MatrixError.notFound("No key \(keyID) for \(targetUser)")
        }
        guard stored.signableBytes == signed.signableBytes else {
            throw MatrixError.invalidParam("The signed object does not match the stored key")
        }
        var out: [KeySignature] = []
        for (signerKeyID, signature) in signed.signatures(of: signer) where stored.signatures(of: signer)[signerKeyID] != signature {
            guard signerKeyID.hasPrefix("ed25519:") else { continue }
            let name = String(signerKeyID.dropFirst("ed25519:".count))
            guard let key = try await signerKey(signer, name, crossKeys: signerCrossKeys) else {
                throw MatrixError(.badRequest, "M_INVALID_SIGNATURE", "Unknown signing key \(signerKeyID)")
            }
            guard signed.hasValidSignature(of: signer, with: key) else {
                throw MatrixError(.badRequest, "M_INVALID_SIGNATURE", "Invalid signature by \(signerKeyID)")
            }
            out.append(KeySignature(targetUser: targetUser, targetKey: keyID, signerUser: signer, signerKeyID: signerKeyID, signature: signature))
        }
        return out
    }

    /// A device's keys or a cross-signing key, by device ID or public key. Another user's
    /// keys can only be signed at their master key (with the signer's user-signing key).
    private func storedKey(_ userID: String, _ keyID: String, viewer: String) async throws -> JSON? {
        let cross = try await keyStore.crossSigningKeys(userID)
        if let hit = cross.first(where: { $0.value.publicKey == keyID }) {
            guard userID == viewer || hit.key == "master" else { return nil }
            return try? JSON.parse(hit.value.json)
        }
        guard userID == viewer, let json = try await keyStore.deviceKeys(userID, keyID) else { return nil }
        return try? JSON.parse(json)
    }

    /// The signer's own key named in a signature: one of its devices or cross-signing keys.
    private func signerKey(_ userID: String, _ name: String, crossKeys: [String: (publicKey: String, json: String)]) async throws -> VerifyKey? {
        if crossKeys.values.contains(where: { $0.publicKey == name }) { return VerifyKey(keyID: "ed25519:" + name, base64: name) }
        guard let json = try await keyStore.deviceKeys(userID, name).flatMap({ try? JSON.parse($0) }),
              let b64 = json["keys"]?["ed25519:" + name]?.stringValue else { return nil }
        return VerifyKey(keyID: "ed25519:" + name, base64: b64)
    }
}

/// A cross-signing key as uploaded, checked for shape: the right user and usage, one ed25519 key.
struct CrossSigningKey {
    let json: JSON
    let publicKey: String
    let verifyKey: VerifyKey

    init(_ object: [String: JSON], type: String, userID: String) throws {
        guard try object.string("user_id") == userID else { throw MatrixError.invalidParam("The \(type) key belongs to another user") }
        guard try object.stringArray("usage")?.contains(type) == true else { throw MatrixError.invalidParam("The \(type) key's usage must include \(type)") }
        guard let keys = try object.object("keys"), keys.count == 1, let (id, value) = keys.first,
              id.hasPrefix("ed25519:"), let b64 = value.stringValue, String(id.dropFirst("ed25519:".count)) == b64,
              let vk = VerifyKey(keyID: id, base64: b64) else {
            throw MatrixError.invalidParam("The \(type) key must hold one ed25519 key named by itself")
        }
        var clean = object
        clean["unsigned"] = nil
        json = .object(clean)
        publicKey = b64
        verifyKey = vk
    }
}
