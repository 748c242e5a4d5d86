import FederationClient
import Foundation
import MatrixCore
import Storage

/// Plays another server's side against a `FederatedServer`: membership handshakes and
/// events built and signed with that server's real key, the way it would build them.
struct RemoteSide: Sendable {
    /// The server whose name and key sign (its keys are fetched from it over TLS).
    let origin: FederatedServer
    /// The server receiving the requests.
    let target: FederatedServer

    static let allVersions = RoomVersion.all.map { ("ver", $0.id) }

    var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// `make_join` (or `make_leave`) on the target for `user`, finished and signed.
    func handshakeEvent(_ kind: String, room: String, user: String,
                        versions: [(String, String)] = allVersions) async throws -> (HTTPResult, Event?, RoomVersion?) {
        let uri = FederationPath.target("/_matrix/federation/v1/make_\(kind)", [room, user], query: kind == "join" ? versions : [])
        let made = try await target.signedRequest("GET", uri, origin: origin.name, key: origin.api.signingKey)
        guard made.status == .ok, let template = made.json["event"], let v = RoomVersion.named(made.json["room_version"]?.stringValue ?? "")
        else { return (made, nil, nil) }
        var fields = template.objectValue ?? [:]
        fields["origin"] = .string(origin.name)
        fields["origin_server_ts"] = .int(now)
        let event = try finalizeEvent(.object(fields), roomVersion: v, serverName: origin.api.serverName, signingKey: origin.api.signingKey)
        return (made, event, v)
    }

    func sendMembership(_ kind: String, _ event: Event, room: String) async throws -> HTTPResult {
        try await target.signedRequest("PUT", FederationPath.target("/_matrix/federation/v2/send_\(kind)", [room, event.eventID]),
                                       origin: origin.name, key: origin.api.signingKey, body: event.json)
    }

    /// Joins `user` of the origin to the target's room through the handshake.
    func join(_ user: String, room: String) async throws {
        let (made, event, _) = try await handshakeEvent("join", room: room, user: user)
        guard let event else { throw TestFailure("make_join failed: \(made)") }
        let sent = try await sendMembership("join", event, room: room)
        guard sent.status == .ok else { throw TestFailure("send_join failed: \(sent)") }
    }

    /// An event by `sender` on top of the target's room as the target has it now (its
    /// extremities, its state for the auth events), signed with `key` (the origin's
    /// unless given). `prev` replaces the prev events.
    func event(_ room: String, sender: String, type: String, stateKey: String? = nil, content: JSON,
               prev: [String]? = nil, key: SigningKey? = nil) async throws -> Event {
        let store = target.api.events
        guard let v = RoomVersion.named(try await store.roomVersion(room) ?? "") else { throw TestFailure("unknown room \(room)") }
        let state = try await store.stateMap(room, atPos: Int64.max)
        let keys = AuthRules.authEventKeys(type: type, stateKey: stateKey, sender: sender, content: content, roomVersion: v)
        var prevIDs = prev ?? []
        if prev == nil { prevIDs = try await store.forwardExtremities(room) }
        let depth = try await store.events(prevIDs).map(\.event.depth).max() ?? 0
        var json: [String: JSON] = [
            "type": .string(type), "sender": .string(sender), "room_id": .string(room), "content": content,
            "origin_server_ts": .int(now), "depth": .int(depth + 1),
            "prev_events": JSON(prevIDs), "auth_events": JSON(keys.compactMap { state[$0]?.eventID }),
        ]
        if let stateKey { json["state_key"] = .string(stateKey) }
        return try finalizeEvent(.object(json), roomVersion: v, serverName: origin.api.serverName, signingKey: key ?? origin.api.signingKey)
    }

    /// `PUT /send/{txnID}` to the target.
    func transaction(_ txnID: String, pdus: [JSON], edus: [JSON] = []) async throws -> HTTPResult {
        try await target.signedRequest("PUT", FederationPath.target("/_matrix/federation/v1/send", [txnID]),
                                       origin: origin.name, key: origin.api.signingKey,
                                       body: ["origin": .string(origin.name), "origin_server_ts": .int(now),
                                              "pdus": .array(pdus), "edus": .array(edus)])
    }
}

/// Two federated servers, each on a database of its own.
func withTwoFederatedServers(sender: Bool = false, senderOnA: Bool? = nil,
                             _ body: @escaping @Sendable (FederatedServer, FederatedServer) async throws -> Void) async throws {
    try await withFreshDatabase { dbA in
        try await withFreshDatabase { dbB in
            try await FederatedServer.run(db: dbA.db, sender: senderOnA ?? sender) { a in
                try await FederatedServer.run(db: dbB.db, sender: sender) { b in try await body(a, b) }
            }
        }
    }
}
