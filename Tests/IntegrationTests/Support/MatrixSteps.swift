import Foundation
import MatrixCore
import Storage

/// A logged-in test user.
struct TestUser: Sendable {
    let userID: String
    let token: String
}

/// The client steps tests repeat, over HTTP.
extension MatrixHTTP {
    func user(_ localpart: String) async throws -> TestUser {
        let userID = "@\(localpart):\(TestServer.serverName)"
        guard try await accounts.createUser(userID, passwordHash: nil, displayname: localpart) else {
            throw TestFailure("user \(userID) already exists")
        }
        let token = try await accounts.createSession(userID: userID, deviceID: "DEV_\(localpart)", displayName: nil, ip: nil)
        return TestUser(userID: userID, token: token)
    }

    func createRoom(_ u: TestUser, _ body: JSON = ["preset": "public_chat"]) async throws -> String {
        let r = try await ok(.post, "/_matrix/client/v3/createRoom", token: u.token, json: body)
        guard let id = r["room_id"]?.stringValue else { throw TestFailure("createRoom gave no room_id: \(r)") }
        return id
    }

    func join(_ u: TestUser, _ roomID: String) async throws {
        _ = try await ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(roomID))/join", token: u.token, json: [:])
    }

    @discardableResult
    func send(_ u: TestUser, _ roomID: String, _ text: String) async throws -> String {
        let txn = UUID().uuidString
        let r = try await ok(.put, "/_matrix/client/v3/rooms/\(HTTPPath.escape(roomID))/send/m.room.message/\(txn)", token: u.token,
                             json: ["msgtype": "m.text", "body": .string(text)])
        guard let id = r["event_id"]?.stringValue else { throw TestFailure("send gave no event_id: \(r)") }
        return id
    }

    func sync(_ u: TestUser, _ query: [String: String] = [:]) async throws -> JSON {
        try await ok(.get, "/_matrix/client/v3/sync" + HTTPPath.query(query), token: u.token)
    }

}

/// Building request paths.
enum HTTPPath {
    static func escape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    static func query(_ q: [String: String]) -> String {
        guard !q.isEmpty else { return "" }
        return "?" + q.sorted { $0.key < $1.key }.map { "\(escape($0.key))=\(escape($0.value))" }.joined(separator: "&")
    }
}

/// Reading sync and message responses.
extension JSON {
    func joinedRoom(_ roomID: String) -> JSON? { self["rooms"]?["join"]?[roomID] }
    var timelineEvents: [JSON] { self["timeline"]?["events"]?.arrayValue ?? [] }
    var stateEvents: [JSON] { self["state"]?["events"]?.arrayValue ?? [] }
    var eventType: String? { self["type"]?.stringValue }
    var stateKeyValue: String? { self["state_key"]?.stringValue }
}

/// The bodies of the m.room.message events in a list, in order.
func messageBodies(_ events: [JSON]) -> [String] {
    events.filter { $0["type"]?.stringValue == "m.room.message" }.compactMap { $0["content"]?["body"]?.stringValue }
}
