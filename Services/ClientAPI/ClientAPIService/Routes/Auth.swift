import Crypto
import Foundation
import MatrixCore
import ServiceKit
import Storage

/// Login, registration (UIA and shared-secret admin), logout, whoami.
extension ClientAPI {
    func authRoutes() -> RouteTable {
        var t = RouteTable()
        t.get("/_matrix/client/v3/login", access: .open) { _ in
            .json(["flows": [["type": "m.login.password"]]])
        }
        t.post("/_matrix/client/v3/login", access: .open, rateLimited: true) { [self] req in try await login(req) }
        t.post("/_matrix/client/v3/register", access: .open, rateLimited: true) { [self] req in try await register(req) }
        t.get("/_matrix/client/v3/register/available", access: .open, rateLimited: true) { [self] req in
            guard let name = req.queryValue("username") else { throw MatrixError.missingParam("username is required") }
            let userID = try newUserID(name)
            if try await accounts.userExists(userID) { throw MatrixError(.badRequest, "M_USER_IN_USE", "User ID already taken") }
            return .json(["available": true])
        }
        t.get("/_matrix/client/v1/register/m.login.registration_token/validity", access: .open, rateLimited: true) { [self] req in
            guard let token = req.queryValue("token") else { throw MatrixError.missingParam("token is required") }
            guard config.enableRegistration else { throw MatrixError.forbidden("Registration is disabled") }
            return .json(["valid": .bool(config.registrationToken != nil && token == config.registrationToken)])
        }
        t.get("/_matrix/client/v3/account/whoami") { req in
            .json(["user_id": .string(req.user.userID), "device_id": .string(req.user.deviceID), "is_guest": false])
        }
        t.post("/_matrix/client/v3/logout") { [self] req in
            try await accounts.deleteDevices(req.user.userID, [req.user.deviceID]).map { announceDeviceChange(req.user.userID, $0, deleted: [req.user.deviceID]) }
            return .empty
        }
        t.post("/_matrix/client/v3/logout/all") { [self] req in
            let all = try await accounts.devices(req.user.userID).map(\.deviceID)
            try await accounts.deleteTokens(req.user.userID)
            try await accounts.deleteDevices(req.user.userID, all).map { announceDeviceChange(req.user.userID, $0, deleted: all) }
            return .empty
        }
        t.get("/_synapse/admin/v1/register", access: .open) { [self] _ in
            guard config.registrationSharedSecret != nil else { throw MatrixError.forbidden("Shared secret registration is not enabled") }
            return .json(["nonce": .string(randomToken(bytes: 16))])
        }
        t.post("/_synapse/admin/v1/register", access: .open, rateLimited: true) { [self] req in try await adminRegister(req) }
        return t
    }

    /// Everyone sharing a room with the user tracks their devices, so all of them wake.
    func announceDeviceChange(_ userID: String, _ pos: Int64, deleted: [String]) {
        Task {
            await announceKeyChange(userID, pos)
            await publishDeviceListUpdates(userID, devices: deleted, deleted: true, at: pos)
        }
    }

    private func login(_ req: MatrixRequest) async throws -> MatrixResponse {
        let body = try req.jsonBody()
        guard try body.requiredString("type") == "m.login.password" else {
            throw MatrixError(.badRequest, "M_UNKNOWN", "Unsupported login type")
        }
        guard let userID = try identifierUser(body), let password = try body.string("password") else {
            throw MatrixError.forbidden("Invalid username or password")
        }
        guard let user = try await accounts.user(userID), let hash = user.passwordHash, !user.deactivated,
              try await AccountStore.verifyPassword(password, hash: hash) else {
            throw MatrixError.forbidden("Invalid username or password")
        }
        let deviceID = try body.string("device_id") ?? randomLetters(10)
        let token = try await accounts.createSession(userID: userID, deviceID: deviceID,
                                                     displayName: try body.string("initial_device_display_name"), ip: req.remoteIP)
        return .json([
            "user_id": .string(userID), "access_token": .string(token), "device_id": .string(deviceID),
            "home_server": .string(serverName.rawValue),
            "well_known": ["m.homeserver": ["base_url": .string(config.publicBaseURL)]],
        ])
    }

    /// Validates a requested localpart and returns the full user ID.
    func newUserID(_ name: String) throws -> String {
        let local = name.hasPrefix("@") ? String(name.dropFirst().prefix { $0 != ":" }) : name.lowercased()
        guard !local.isEmpty, UserID.isValidStrictLocalpart(local) else {
            throw MatrixError(.badRequest, "M_INVALID_USERNAME", "User ID may only contain a-z, 0-9, . _ = - / +")
        }
        let id = "@\(local):\(serverName.rawValue)"
        guard id.utf8.count <= 255 else { throw MatrixError(.badRequest, "M_INVALID_USERNAME", "User ID too long") }
        return id
    }

    private func register(_ req: MatrixRequest) async throws -> MatrixResponse {
        let body = try req.jsonBody()
        let kind = req.queryValue("kind") ?? "user"
        guard kind == "user" else { throw MatrixError(.forbidden, "M_GUEST_ACCESS_FORBIDDEN", "Guest access is disabled") }
        guard config.enableRegistration else { throw MatrixError.forbidden("Registration is disabled") }
        let userID = try newUserID(try body.string("username") ?? randomLetters(12).lowercased())
        if try await accounts.userExists(userID) { throw MatrixError(.badRequest, "M_USER_IN_USE", "User ID already taken") }
        let flows = config.registrationToken != nil ? [["m.login.registration_token"]] : [["m.login.dummy"]]
        let uia = try await requireUIA(body, userID: nil, flows: flows)
        guard let password = try body.string("password"), !password.isEmpty else {
            throw MatrixError(.badRequest, "M_WEAK_PASSWORD", "A password is required")
        }
        let hash = try await AccountStore.hashPassword(password)
        guard try await accounts.createUser(userID, passwordHash: hash, displayname: String(userID.dropFirst().prefix { $0 != ":" })) else {
            throw MatrixError(.badRequest, "M_USER_IN_USE", "User ID already taken")
        }
        if let s = uia.session { try await accounts.deleteUIASession(s) }
        var out: [String: JSON] = ["user_id": .string(userID), "home_server": .string(serverName.rawValue)]
        if try body.bool("inhibit_login") != true {
            let deviceID = try body.string("device_id") ?? randomLetters(10)
            out["device_id"] = .string(deviceID)
            out["access_token"] = .string(try await accounts.createSession(
                userID: userID, deviceID: deviceID, displayName: try body.string("initial_device_display_name"), ip: req.remoteIP))
        }
        return .json(.object(out))
    }

    /// Synapse-compatible shared-secret registration: HMAC-SHA1 over nonce, user, password and
    /// admin flag, each nonce usable once.
    private func adminRegister(_ req: MatrixRequest) async throws -> MatrixResponse {
        guard let secret = config.registrationSharedSecret else { throw MatrixError.forbidden("Shared secret registration is not enabled") }
        let body = try req.jsonBody()
        let nonce = try body.requiredString("nonce")
        let username = try body.requiredString("username")
        let password = try body.requiredString("password")
        let admin = try body.bool("admin") ?? false
        let mac = try body.requiredString("mac")
        var message = Data()
        for (i, part) in [nonce, username, password, admin ? "admin" : "notadmin"].enumerated() {
            if i > 0 { message.append(0) }
            message.append(contentsOf: Array(part.utf8))
        }
        let expected = HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        let hex = Hex.encode(expected)
        guard hex == mac.lowercased() else { throw MatrixError.forbidden("HMAC incorrect") }
        guard try await accounts.useNonce(nonce) else { throw MatrixError.forbidden("Unrecognised nonce") }
        let userID = try newUserID(username)
        let hash = try await AccountStore.hashPassword(password)
        guard try await accounts.createUser(userID, passwordHash: hash, isAdmin: admin, displayname: try body.string("displayname") ?? username) else {
            throw MatrixError(.badRequest, "M_USER_IN_USE", "User ID already taken")
        }
        let deviceID = randomLetters(10)
        let token = try await accounts.createSession(userID: userID, deviceID: deviceID, displayName: nil, ip: req.remoteIP)
        return .json(["user_id": .string(userID), "access_token": .string(token), "device_id": .string(deviceID),
                      "home_server": .string(serverName.rawValue)])
    }
}
