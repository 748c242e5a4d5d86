import Hummingbird
import MatrixCore
import Testing

/// How the HTTP layer answers what it cannot serve: always a Matrix JSON error, never HTML
/// or an empty body, and always with CORS headers.
@Suite(.freshDatabase)
struct HTTPErrorTests {
    static func expectMatrixError(_ r: HTTPResult, _ status: HTTPResponse.Status, _ errcode: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "\(r)", sourceLocation: sourceLocation)
        #expect(r.errcode == errcode, "\(r)", sourceLocation: sourceLocation)
        #expect(r.json["error"]?.stringValue != nil, "\(r)", sourceLocation: sourceLocation)
        #expect(r.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        #expect(r.headers[.accessControlAllowOrigin] == "*", sourceLocation: sourceLocation)
    }

    @Test func unknownPathsAnswer404Unrecognized() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            for path in ["/_matrix/client/v3/no_such_endpoint", "/_matrix/client/v3/rooms/!r:x/no_such", "/nothing/here", "/"] {
                Self.expectMatrixError(try await s.request(.get, path), .notFound, "M_UNRECOGNIZED")
            }
        }
    }

    @Test func knownPathWithWrongMethodAnswers405Unrecognized() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            Self.expectMatrixError(try await s.request(.delete, "/_matrix/client/v3/login"), .methodNotAllowed, "M_UNRECOGNIZED")
            // Checked before authentication: no token needed to learn the method is wrong.
            Self.expectMatrixError(try await s.request(.post, "/_matrix/client/v3/sync", json: [:]), .methodNotAllowed, "M_UNRECOGNIZED")
            Self.expectMatrixError(try await s.request(.put, "/_matrix/client/versions", json: [:]), .methodNotAllowed, "M_UNRECOGNIZED")
        }
    }

    @Test func malformedJSONIsNotJSONAndNonObjectJSONIsBadJSON() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let login = "/_matrix/client/v3/login"
            for bad in ["{not json", "{\"type\": \"m.login.password\",", "\u{1}"] {
                Self.expectMatrixError(try await s.request(.post, login, body: Array(bad.utf8)), .badRequest, "M_NOT_JSON")
            }
            for notObject in ["[1, 2]", "\"a string\"", "42", "null"] {
                Self.expectMatrixError(try await s.request(.post, login, body: Array(notObject.utf8)), .badRequest, "M_BAD_JSON")
            }
        }
    }

    @Test func missingOrUnknownTokensAnswer401() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            Self.expectMatrixError(try await s.request(.get, "/_matrix/client/v3/sync"), .unauthorized, "M_MISSING_TOKEN")
            let r = try await s.request(.get, "/_matrix/client/v3/account/whoami", token: "myl_not_a_real_token")
            Self.expectMatrixError(r, .unauthorized, "M_UNKNOWN_TOKEN")
            #expect(r.json["soft_logout"] == .bool(false))
        }
    }

    @Test func bodiesOverTheLimitAnswer413TooLarge() async throws {
        let limit = 1024
        try await TestServer.run(db: try TestDatabase.current().db, settings: ["MYELIN_MAX_BODY_BYTES": String(limit)]) { s in
            let login = "/_matrix/client/v3/login"
            func body(_ size: Int) -> [UInt8] {
                let head = "{\"type\":\"m.login.password\",\"pad\":\""
                return Array((head + String(repeating: "x", count: size - head.utf8.count - 2) + "\"}").utf8)
            }
            #expect(body(limit).count == limit)
            Self.expectMatrixError(try await s.request(.post, login, body: body(limit + 1)), .contentTooLarge, "M_TOO_LARGE")
            Self.expectMatrixError(try await s.request(.post, login, body: body(8 * limit)), .contentTooLarge, "M_TOO_LARGE")
            // At the limit the body is read and judged on its content instead.
            let atLimit = try await s.request(.post, login, body: body(limit))
            #expect(atLimit.status != .contentTooLarge, "\(atLimit)")
            #expect(atLimit.errcode != nil && atLimit.errcode != "M_TOO_LARGE", "\(atLimit)")
        }
    }

    @Test func optionsPreflightAnswersWithCORSHeaders() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            for path in ["/_matrix/client/v3/login", "/_matrix/client/v3/rooms/!r:x/send/m.room.message/t1"] {
                let r = try await s.request(.options, path, headers: [
                    .origin: "https://app.example.org", .accessControlRequestMethod: "PUT",
                    .accessControlRequestHeaders: "Authorization, Content-Type",
                ])
                #expect(r.status == .ok, "\(r)")
                #expect(r.headers[.accessControlAllowOrigin] == "*")
                let methods = r.headers[.accessControlAllowMethods] ?? ""
                for m in ["GET", "POST", "PUT", "DELETE", "OPTIONS"] { #expect(methods.contains(m), "\(methods) lacks \(m)") }
                let allowed = (r.headers[.accessControlAllowHeaders] ?? "").lowercased()
                for h in ["authorization", "content-type", "x-requested-with"] { #expect(allowed.contains(h), "\(allowed) lacks \(h)") }
            }
        }
    }

    @Test func everyResponseCarriesAccessControlAllowOrigin() async throws {
        try await TestServer.run(db: try TestDatabase.current().db, settings: ["MYELIN_MAX_BODY_BYTES": "64"]) { s in
            let u = try await s.user("cors")
            let responses: [HTTPResult] = [
                try await s.request(.get, "/_matrix/client/versions"),
                try await s.request(.get, "/_matrix/client/v3/account/whoami", token: u.token),
                try await s.request(.get, "/_matrix/client/v3/unknown"),
                try await s.request(.delete, "/_matrix/client/v3/login"),
                try await s.request(.post, "/_matrix/client/v3/login", body: Array("nope".utf8)),
                try await s.request(.post, "/_matrix/client/v3/login", body: Array(repeating: 0x20, count: 65)),
                try await s.request(.get, "/_matrix/client/v3/sync"),
                try await s.request(.get, "/_matrix/client/v3/rooms/!nowhere:x/messages", token: u.token),
            ]
            #expect(Set(responses.map(\.status.code)).count >= 6, "a spread of statuses: \(responses.map(\.status.code))")
            for r in responses { #expect(r.headers[.accessControlAllowOrigin] == "*", "\(r)") }
        }
    }
}
