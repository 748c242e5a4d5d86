import MatrixCore
import Testing

/// Registration is closed unless configured; with a token configured, only the token opens it.
@Suite(.freshDatabase)
struct RegistrationPolicyTests {
    static let register = "/_matrix/client/v3/register"

    @Test func closedByDefault() async throws {
        try await TestServer.run(db: try TestDatabase.current().db, settings: ["MYELIN_ENABLE_REGISTRATION": ""]) { s in
            let r = try await s.request(.post, Self.register, json: ["username": "nobody", "password": "pw",
                                                                     "auth": ["type": "m.login.dummy"]])
            #expect(r.status == .forbidden)
            #expect(r.errcode == "M_FORBIDDEN")
            #expect(try await s.accounts.user("@nobody:\(TestServer.serverName)") == nil)
        }
    }

    @Test func registrationTokenIsRequiredWhenConfigured() async throws {
        try await TestServer.run(db: try TestDatabase.current().db, settings: ["MYELIN_REGISTRATION_TOKEN": "let-me-in"]) { s in
            // The challenge offers only the token stage.
            let first = try await s.request(.post, Self.register, json: ["username": "tok", "password": "pw"])
            #expect(first.status == .unauthorized)
            #expect(first.json["flows"] == [["stages": ["m.login.registration_token"]]])
            let session = try #require(first.json["session"]?.stringValue)

            let dummy = try await s.request(.post, Self.register, json: ["username": "tok", "password": "pw",
                                                                         "auth": ["type": "m.login.dummy", "session": .string(session)]])
            #expect(dummy.status != .ok)
            let wrong = try await s.request(.post, Self.register, json: ["username": "tok", "password": "pw",
                                                                         "auth": ["type": "m.login.registration_token", "token": "nope",
                                                                                  "session": .string(session)]])
            #expect(wrong.status == .unauthorized)
            #expect(try await s.accounts.user("@tok:\(TestServer.serverName)") == nil)

            let right = try await s.request(.post, Self.register, json: ["username": "tok", "password": "pw",
                                                                         "auth": ["type": "m.login.registration_token", "token": "let-me-in",
                                                                                  "session": .string(session)]])
            #expect(right.status == .ok, "\(right)")
            #expect(right.json["user_id"] == .string("@tok:\(TestServer.serverName)"))

            let valid = "/_matrix/client/v1/register/m.login.registration_token/validity"
            #expect(try await s.request(.get, valid + "?token=let-me-in").json["valid"] == true)
            #expect(try await s.request(.get, valid + "?token=other").json["valid"] == false)
        }
    }
}
