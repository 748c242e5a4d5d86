import MatrixCore
import ServiceKit
import Storage

/// Device keys: upload, query, claim and changes (spec "End-to-end encryption", key management).
extension ClientAPI {
    func keyRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/v3/keys/upload") { [self] req in try await uploadKeys(req) }
        t.post("/_matrix/client/v3/keys/query") { [self] req in try await queryKeys(req) }
        t.post("/_matrix/client/v3/keys/claim") { [self] req in try await claimKeys(req) }
        t.get("/_matrix/client/v3/keys/changes") { [self] req in
            guard let from = try StreamToken.parse(req.queryValue("from")) else { throw MatrixError.missingParam("from is required") }
            let head = try await db.currentStreamHead()
            let to = try StreamToken.parse(req.queryValue("to")).map { min($0, head) } ?? head
            let delta = try await deviceListDelta(req.user.userID, since: from, upTo: to)
            return .json(["changed": JSON(delta.changed), "left": JSON(delta.left)])
        }
        return t
    }

    private func uploadKeys(_ req: MatrixRequest) async throws -> MatrixResponse {
        let body = try req.jsonBody()
        let user = req.user
        var deviceKeys: String?
        if let dk = try body.object("device_keys") {
            deviceKeys = try validatedDeviceKeys(dk, userID: user.userID, deviceID: user.deviceID)
        }
        let oneTime = try uploadedKeys(body.object("one_time_keys") ?? [:], field: "one_time_keys")
        let fallback = try uploadedKeys(body.object("fallback_keys") ?? body.object("org.matrix.msc2732.fallback_keys") ?? [:],
                                        field: "fallback_keys")
        let pos: Int64?
        do {
            pos = try await keyStore.upload(userID: user.userID, deviceID: user.deviceID, deviceKeys: deviceKeys,
                                            oneTimeKeys: oneTime, fallbackKeys: fallback)
        } catch KeyStoreError.oneTimeKeyConflict(let id) {
            throw MatrixError.invalidParam("One-time key \(id) already exists with different content")
        }
        if let pos {
            await announceKeyChange(user.userID, pos)
            if deviceKeys != nil { await publishDeviceListUpdates(user.userID, devices: [user.deviceID], deleted: false, at: pos) }
        }
        var counts = try await userData.oneTimeKeyCounts(user.userID, user.deviceID)
        // Clients decide when to top up from this count, so it is present even at zero.
        if counts["signed_curve25519"] == nil { counts["signed_curve25519"] = 0 }
        return .json(["one_time_key_counts": .object(counts.mapValues { .int($0) })])
    }

    /// Device keys must belong to the uploading device and carry its own signature.
    private func validatedDeviceKeys(_ dk: [String: JSON], userID: String, deviceID: String) throws -> String {
        guard try dk.string("user_id") == userID, try dk.string("device_id") == deviceID else {
            throw MatrixError.invalidParam("device_keys must name the uploading user and device")
        }
        guard try dk.stringArray("algorithms") != nil, let keys = try dk.object("keys") else {
            throw MatrixError.badJSON("device_keys needs algorithms and keys")
        }
        let keyID = "ed25519:\(deviceID)"
        guard let b64 = keys[keyID]?.stringValue, let verifyKey = VerifyKey(keyID: keyID, base64: b64) else {
            throw MatrixError.invalidParam("device_keys has no valid \(keyID) key")
        }
        var object = dk
        object["unsigned"] = nil
        let json = JSON.object(object)
        guard json.hasValidSignature(of: userID, with: verifyKey) else {
            throw MatrixError(.badRequest, "M_INVALID_SIGNATURE", "device_keys are not signed by the device's own key")
        }
        return json.canonicalString
    }

    /// `{"<algorithm>:<id>": key}` as stored rows.
    private func uploadedKeys(_ keys: [String: JSON], field: String) throws -> [UploadedKey] {
        try keys.sorted { $0.key < $1.key }.map { id, value in
            guard let colon = id.firstIndex(of: ":"), colon != id.startIndex else {
                throw MatrixError.invalidParam("\(field) key IDs look like <algorithm>:<id>")
            }
            guard value.objectValue != nil || value.stringValue != nil else { throw MatrixError.badJSON("\(field).\(id) must be an object") }
            return UploadedKey(algorithm: String(id[..<colon]), keyID: id, json: value.canonicalString)
        }
    }

    private func queryKeys(_ req: MatrixRequest) async throws -> MatrixResponse {
        let body = try req.jsonBody()
        guard let wanted = try body.object("device_keys") else { throw MatrixError.badJSON("device_keys is required") }
        let viewer = req.user.userID
        var local: [String: [String]] = [:], remote: [ServerName: [String: JSON]] = [:]
        for (userID, ids) in wanted {
            guard let uid = UserID(userID) else { throw MatrixError.invalidParam("Invalid user ID \(userID)") }
            guard let list = ids.arrayValue else { throw MatrixError.badJSON("device_keys.\(userID) must be a list") }
            if uid.server == serverName {
                local[userID] = list.compactMap(\.stringValue)
            } else {
                remote[uid.server, default: [:]][userID] = .array(list)
            }
        }
        var keys = try await localKeys(local, viewer: viewer)
        keys.merge(await remoteKeys(remote, timeout: try Self.remoteTimeout(body)))
        // A server that did not answer still has its users' last cross-signing keys here
        // (from its `m.signing_key_update`s); it stays listed in `failures`.
        for (server, users) in remote where keys.failures[server.rawValue] != nil {
            for user in users.keys { try await addStoredCrossSigningKeys(user, to: &keys) }
        }
        return .json(keys.clientResponse)
    }

    /// The client's `timeout` for remote servers, kept between one and thirty seconds.
    static func remoteTimeout(_ body: [String: JSON]) throws -> Duration {
        try body.int("timeout").map { Duration.milliseconds(min(max($0, 1000), 30_000)) } ?? .seconds(10)
    }

    /// Device and cross-signing keys of local users, with the signatures `viewer` may see
    /// (nil: a remote server asking, which sees only the owners' own signatures).
    func localKeys(_ wanted: [String: [String]], viewer: String?) async throws -> KeyQueryResult {
        var result = KeyQueryResult()
        for (userID, ids) in wanted {
            guard try await accounts.userExists(userID) else { continue }
            let signatures = try await keyStore.signatures(on: userID, viewer: viewer ?? userID)
            var mine: [String: JSON] = [:]
            for d in try await keyStore.deviceKeys(of: userID, deviceIDs: ids) {
                guard var keys = try? JSON.parse(d.json) else { continue }
                keys = Self.merging(signatures.filter { $0.targetKey == d.deviceID }, into: keys)
                // Device names stay on this server: other servers see the keys only.
                let name = viewer == nil ? nil : d.displayName
                keys["unsigned"] = name.map { ["device_display_name": .string($0)] } ?? [:]
                mine[d.deviceID] = keys
            }
            result.devices[userID] = .object(mine)
            for (type, key) in try await keyStore.crossSigningKeys(userID) {
                guard let parsed = try? JSON.parse(key.json) else { continue }
                let merged = Self.merging(signatures.filter { $0.targetKey == key.publicKey }, into: parsed)
                switch type {
                case "master": result.master[userID] = merged
                case "self_signing": result.selfSigning[userID] = merged
                case "user_signing" where userID == viewer: result.userSigning[userID] = merged
                default: break
                }
            }
        }
        return result
    }

    /// Another server's user's master and self-signing keys as last taken in.
    private func addStoredCrossSigningKeys(_ user: String, to keys: inout KeyQueryResult) async throws {
        for (type, key) in try await keyStore.crossSigningKeys(user) {
            guard let parsed = try? JSON.parse(key.json) else { continue }
            if type == "master" { keys.master[user] = parsed }
            if type == "self_signing" { keys.selfSigning[user] = parsed }
        }
    }

    /// A key with separately uploaded signatures added to its own.
    static func merging(_ signatures: [KeySignature], into key: JSON) -> JSON {
        var out = key
        for s in signatures {
            if let signed = try? out.addingSignature(s.signature, keyID: s.signerKeyID, entity: s.signerUser) { out = signed }
        }
        return out
    }

    private func claimKeys(_ req: MatrixRequest) async throws -> MatrixResponse {
        let body = try req.jsonBody()
        guard let wanted = try body.object("one_time_keys") else { throw MatrixError.badJSON("one_time_keys is required") }
        var local: [String: [String: String]] = [:], remote: [ServerName: [String: JSON]] = [:]
        for (userID, devices) in wanted {
            guard let uid = UserID(userID) else { throw MatrixError.invalidParam("Invalid user ID \(userID)") }
            guard let devices = devices.objectValue else { throw MatrixError.badJSON("one_time_keys.\(userID) must be an object") }
            if uid.server == serverName {
                local[userID] = try devices.mapValues { a in
                    guard let a = a.stringValue else { throw MatrixError.badJSON("the algorithm must be a string") }
                    return a
                }
            } else {
                remote[uid.server, default: [:]][userID] = .object(devices)
            }
        }
        var claimed = try await claimLocalKeys(local)
        let (remoteClaimed, failures) = await claimRemoteKeys(remote, timeout: try Self.remoteTimeout(body))
        claimed.merge(remoteClaimed) { a, _ in a }
        return .json(["one_time_keys": .object(claimed), "failures": .object(failures)])
    }

    /// Claims one key per (user, device) of local users; devices with none left are omitted.
    func claimLocalKeys(_ wanted: [String: [String: String]]) async throws -> [String: JSON] {
        var claimed: [String: JSON] = [:]
        for (userID, devices) in wanted {
            var byDevice: [String: JSON] = [:]
            for (deviceID, algorithm) in devices {
                guard let key = try await keyStore.claim(userID, deviceID, algorithm: algorithm),
                      let value = try? JSON.parse(key.json) else { continue }
                byDevice[deviceID] = [key.keyID: value]
            }
            if !byDevice.isEmpty { claimed[userID] = .object(byDevice) }
        }
        return claimed
    }
}

/// The parts of a keys query answer, gathered per server and merged.
struct KeyQueryResult: Sendable {
    var devices: [String: JSON] = [:]
    var master: [String: JSON] = [:]
    var selfSigning: [String: JSON] = [:]
    var userSigning: [String: JSON] = [:]
    var failures: [String: JSON] = [:]

    mutating func merge(_ other: KeyQueryResult) {
        devices.merge(other.devices) { a, _ in a }
        master.merge(other.master) { a, _ in a }
        selfSigning.merge(other.selfSigning) { a, _ in a }
        userSigning.merge(other.userSigning) { a, _ in a }
        failures.merge(other.failures) { a, _ in a }
    }

    var clientResponse: JSON {
        ["device_keys": .object(devices), "failures": .object(failures), "master_keys": .object(master),
         "self_signing_keys": .object(selfSigning), "user_signing_keys": .object(userSigning)]
    }
}
