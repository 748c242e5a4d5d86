import FederationClient
import MatrixCore
import ServiceKit

/// Keys of users on other servers, asked of each server at once; a server that does not
/// answer in time is listed in `failures` and holds up no other.
extension ClientAPI {
    func remoteKeys(_ wanted: [ServerName: [String: JSON]], timeout: Duration) async -> KeyQueryResult {
        let federation = self.federation
        return await withTaskGroup(of: KeyQueryResult.self) { group in
            for (server, users) in wanted {
                group.addTask {
                    var part = KeyQueryResult()
                    do {
                        let answer = try await federation.post(server, "/_matrix/federation/v1/user/keys/query",
                                                               body: ["device_keys": .object(users)], timeout: timeout)
                        // Only keys of the users asked for, all of them on the server that answered.
                        func owned(_ field: String) -> [String: JSON] {
                            (answer[field]?.objectValue ?? [:]).filter { users[$0.key] != nil && $0.value.objectValue != nil }
                        }
                        part.devices = owned("device_keys")
                        part.master = owned("master_keys")
                        part.selfSigning = owned("self_signing_keys")
                    } catch {
                        part.failures[server.rawValue] = Self.failure(error as? FederationError ?? .invalidResponse(String(describing: error)))
                    }
                    return part
                }
            }
            var all = KeyQueryResult()
            for await part in group { all.merge(part) }
            return all
        }
    }

    func claimRemoteKeys(_ wanted: [ServerName: [String: JSON]], timeout: Duration) async -> ([String: JSON], [String: JSON]) {
        let federation = self.federation
        return await withTaskGroup(of: ([String: JSON], [String: JSON]).self) { group in
            for (server, users) in wanted {
                group.addTask {
                    do {
                        let answer = try await federation.post(server, "/_matrix/federation/v1/user/keys/claim",
                                                               body: ["one_time_keys": .object(users)], timeout: timeout)
                        let claimed = (answer["one_time_keys"]?.objectValue ?? [:])
                            .filter { users[$0.key] != nil && $0.value.objectValue != nil }
                        return (claimed, [:])
                    } catch {
                        return ([:], [server.rawValue: Self.failure(error as? FederationError ?? .invalidResponse(String(describing: error)))])
                    }
                }
            }
            var claimed: [String: JSON] = [:], failures: [String: JSON] = [:]
            for await (c, f) in group {
                claimed.merge(c) { a, _ in a }
                failures.merge(f) { a, _ in a }
            }
            return (claimed, failures)
        }
    }

    /// How a failed server appears in a client's `failures`.
    static func failure(_ error: FederationError) -> JSON {
        switch error {
        case .http(let status, _): return ["status": .int(Int64(status)), "message": .string(error.description)]
        default: return ["status": 503, "message": .string(error.description)]
        }
    }
}
