import Foundation
import MatrixCore
import Storage
import Testing

/// Access tokens are cached per process; a revocation on one process must reach the others
/// at once (through Redis), not only when their cached copy expires.
@Suite(.serialized, .freshDatabase)
struct TokenRevocationTests {
    @Test func aTokenLoggedOutOnOneProcessIsRefusedByTheOther() async throws {
        let tdb = try TestDatabase.current()
        try await ClientAPIProcess.withKeyFile { key in
            try await ClientAPIProcess.run(database: tdb, keyFile: key, label: "blue") { blue in
                try await ClientAPIProcess.run(database: tdb, keyFile: key, label: "green") { green in
                    let alice = try await blue.user("tokenalice")
                    // A fresh token each attempt: green caches it, blue logs it out, and green
                    // must refuse it within 2 s, far less than the cache's 10 s lifetime. The
                    // first attempts may fall before green's bus reader is listening.
                    var refusedInTime = false
                    for attempt in 0..<5 where !refusedInTime {
                        let token = try await blue.accounts.createSession(
                            userID: alice.userID, deviceID: "PHONE\(attempt)", displayName: nil, ip: nil)
                        let who = try await green.ok(.get, "/_matrix/client/v3/account/whoami", token: token)
                        #expect(who["user_id"]?.stringValue == alice.userID)
                        _ = try await blue.ok(.post, "/_matrix/client/v3/logout", token: token, json: [:])
                        let local = try await blue.request(.get, "/_matrix/client/v3/account/whoami", token: token)
                        #expect(local.status.code == 401 && local.errcode == "M_UNKNOWN_TOKEN", "\(local)")
                        let deadline = ContinuousClock.now + .seconds(2)
                        while ContinuousClock.now < deadline {
                            let r = try await green.request(.get, "/_matrix/client/v3/account/whoami", token: token)
                            if r.status.code == 401 {
                                #expect(r.errcode == "M_UNKNOWN_TOKEN", "\(r)")
                                refusedInTime = true
                                break
                            }
                            #expect(r.status.code == 200, "\(r)")
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    }
                    #expect(refusedInTime, "green kept accepting tokens blue had logged out")

                    // Logging out everywhere reaches the other process's cache too.
                    let tokens = try await (0..<2).asyncMap { i in
                        try await blue.accounts.createSession(userID: alice.userID, deviceID: "LAPTOP\(i)", displayName: nil, ip: nil)
                    }
                    for t in tokens { _ = try await green.ok(.get, "/_matrix/client/v3/account/whoami", token: t) }
                    _ = try await blue.ok(.post, "/_matrix/client/v3/logout/all", token: tokens[0], json: [:])
                    let deadline = ContinuousClock.now + .seconds(2)
                    var refused = 0
                    while ContinuousClock.now < deadline, refused < tokens.count {
                        refused = 0
                        for t in tokens where try await green.request(.get, "/_matrix/client/v3/account/whoami", token: t).status.code == 401 {
                            refused += 1
                        }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    #expect(refused == tokens.count, "green still accepted \(tokens.count - refused) tokens after logout/all")
                }
            }
        }
    }
}

private extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out.append(try await transform(e)) }
        return out
    }
}
