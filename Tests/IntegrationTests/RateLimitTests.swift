import Hummingbird
import MatrixCore
import Testing

/// Rate-limited routes answer 429 with a retry hint once the bucket is empty.
@Suite(.freshDatabase)
struct RateLimitTests {
    @Test func thirdRapidLoginAttemptIsLimited() async throws {
        // One token per 100 s: the bucket cannot refill while the slow (bcrypt) attempts run.
        let settings = ["MYELIN_RATE_LIMIT_PER_SECOND": "0.01", "MYELIN_RATE_LIMIT_BURST": "2"]
        try await TestServer.run(db: try TestDatabase.current().db, settings: settings) { s in
            let attempt: JSON = [
                "type": "m.login.password", "identifier": ["type": "m.id.user", "user": "nobody"], "password": "wrong",
            ]
            var results: [HTTPResult] = []
            for _ in 0..<3 { results.append(try await s.request(.post, "/_matrix/client/v3/login", json: attempt)) }

            // The first two are judged (and refused) on their merits.
            for r in results.prefix(2) {
                #expect(r.status == .forbidden, "\(r)")
                #expect(r.errcode == "M_FORBIDDEN")
            }
            let limited = results[2]
            #expect(limited.status == .tooManyRequests, "\(limited)")
            #expect(limited.errcode == "M_LIMIT_EXCEEDED")
            let retry = try #require(limited.json["retry_after_ms"]?.intValue, "\(limited)")
            #expect(retry > 0 && retry <= 100_000, "retry_after_ms \(retry) should be within one token's refill time")
            #expect(limited.headers[.accessControlAllowOrigin] == "*")

            // Routes that are not rate limited still answer.
            let versions = try await s.request(.get, "/_matrix/client/versions")
            #expect(versions.status == .ok)
        }
    }
}
