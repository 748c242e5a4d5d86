import MatrixCore
import ServiceKit
import Storage

/// User-interactive authentication: answers 401 with the flows until a stage completes.
extension ClientAPI {
    struct UIAOutcome { let session: String? }

    /// Requires a password stage for `userID` (account changes), or the given flows for registration.
    func requireUIA(_ body: [String: JSON], userID: String?, flows: [[String]], params: JSON = [:]) async throws -> UIAOutcome {
        let auth = try body.object("auth")
        let session = try auth?.string("session")
        var completed: [String] = []
        if let session {
            guard let c = try await accounts.uiaCompleted(session) else {
                throw MatrixError(.badRequest, "M_UNKNOWN", "Unknown or expired UIA session")
            }
            completed = c
        }
        if let auth, let type = try auth.string("type") {
            let s: String
            if let session { s = session } else { s = try await accounts.createUIASession(userID: userID) }
            try await completeStage(type, auth: auth, userID: userID)
            try await accounts.uiaComplete(s, stage: type)
            completed.append(type)
            if flows.contains(where: { Set($0).isSubset(of: Set(completed)) }) {
                return UIAOutcome(session: s)
            }
            throw challenge(session: s, flows: flows, completed: completed, params: params)
        }
        if flows.contains(where: { Set($0).isSubset(of: Set(completed)) }), let session { return UIAOutcome(session: session) }
        let s: String
        if let session { s = session } else { s = try await accounts.createUIASession(userID: userID) }
        throw challenge(session: s, flows: flows, completed: completed, params: params)
    }

    private func challenge(session: String, flows: [[String]], completed: [String], params: JSON, error: MatrixError? = nil) -> MatrixError {
        var e = MatrixError(.unauthorized, "M_FORBIDDEN", "Additional authentication required")
        var body: [String: JSON] = [
            "session": .string(session),
            "flows": .array(flows.map { ["stages": JSON($0)] }),
            "params": params,
            "completed": JSON(completed),
        ]
        if let error { body["errcode"] = .string(error.errcode); body["error"] = .string(error.message) }
        e.rawBody = .object(body)
        return e
    }

    private func completeStage(_ type: String, auth: [String: JSON], userID: String?) async throws {
        switch type {
        case "m.login.password":
            guard let userID else { throw MatrixError.forbidden("Password stage needs a user") }
            let claimed = try identifierUser(auth)
            if let claimed, claimed != userID { throw MatrixError.forbidden("Invalid username or password") }
            guard let password = try auth.string("password"), let u = try await accounts.user(userID), let h = u.passwordHash,
                  try await AccountStore.verifyPassword(password, hash: h) else {
                throw MatrixError.forbidden("Invalid username or password")
            }
        case "m.login.dummy":
            guard userID == nil else { throw MatrixError.forbidden("Dummy auth is only for registration") }
        case "m.login.registration_token":
            guard let expected = config.registrationToken, try auth.string("token") == expected else {
                throw MatrixError(.unauthorized, "M_FORBIDDEN", "Invalid registration token")
            }
        default:
            throw MatrixError(.badRequest, "M_UNRECOGNIZED", "Unknown auth stage \(type)")
        }
    }

    /// The user named by an `identifier` (m.id.user) or legacy `user` field, fully qualified.
    func identifierUser(_ body: [String: JSON]) throws -> String? {
        var name: String?
        if let id = try body.object("identifier") {
            let type = try id.string("type")
            switch type {
            case "m.id.user": name = try id.string("user")
            case "m.id.thirdparty", "m.id.phone":
                throw MatrixError.forbidden("Third-party identifiers are not supported on this server")
            default: throw MatrixError(.badRequest, "M_UNKNOWN", "Unknown identifier type")
            }
        } else {
            name = try body.string("user")
        }
        guard let name else { return nil }
        return qualify(name)
    }

    func qualify(_ name: String) -> String {
        name.hasPrefix("@") ? name : "@\(name.lowercased()):\(serverName.rawValue)"
    }
}
