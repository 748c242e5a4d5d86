import FederationClient
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Knocking on a room this server is not in (the spec's "Knocking upon a room"):
/// `make_knock`, our signature, `send_knock`; the knock is kept with the room description
/// the resident server sent, which the user's /sync shows until they are let in.
extension ClientAPI {
    /// Knocks on a room given by ID or alias; returns the room ID.
    func knockRoom(_ idOrAlias: String, user: String, via: [String], reason: String?) async throws -> String {
        var (roomID, candidates) = try await roomAndServers(idOrAlias, via: via)
        if try await events.serverIsJoined(roomID, server: serverName.rawValue) {
            _ = try await setMembership(roomID: roomID, sender: user, target: user, membership: "knock", reason: reason)
            return roomID
        }
        if let s = RoomID(roomID)?.server { candidates.append(s.rawValue) }
        var seen = Set<String>()
        let servers = candidates.compactMap(ServerName.init).filter { $0 != serverName && seen.insert($0.rawValue).inserted }
        guard !servers.isEmpty else { throw MatrixError.notFound("No server to knock on \(roomID) through; give server_name") }
        var lastError = MatrixError.notFound("No server could help knock on \(roomID)")
        for server in servers.prefix(5) {
            do {
                try await remoteKnock(roomID, user: user, through: server, reason: reason)
                return roomID
            } catch let e as MatrixError {
                logger.info("knocking on \(roomID) through \(server.rawValue) failed: \(e)")
                lastError = e
                if e.errcode == "M_FORBIDDEN" { break }
            }
        }
        throw lastError
    }

    private func remoteKnock(_ roomID: String, user: String, through server: ServerName, reason: String?) async throws {
        let versions = RoomVersion.all.filter(\.knockingSupported).map { ("ver", $0.id) }
        let made: JSON
        do {
            made = try await federation.get(server, FederationPath.target("/_matrix/federation/v1/make_knock", [roomID, user], query: versions),
                                            timeout: .seconds(20))
        } catch {
            if error.errcode == "M_INCOMPATIBLE_ROOM_VERSION" {
                throw MatrixError(.badRequest, "M_INCOMPATIBLE_ROOM_VERSION", "This server cannot knock on the room's version")
            }
            throw Self.remoteError(error, notFound: "\(server.rawValue) does not know room \(roomID)")
        }
        guard let version = RoomVersion.named(made["room_version"]?.stringValue ?? "1"), version.knockingSupported else {
            throw MatrixError(.badRequest, "M_INCOMPATIBLE_ROOM_VERSION", "This server cannot knock on the room's version")
        }
        let knock = try await finishedMembership(made["event"], roomID: roomID, user: user, membership: "knock", version: version,
                                                 reason: reason)
        let answer: JSON
        do {
            answer = try await federation.send("PUT", to: server,
                                               FederationPath.target("/_matrix/federation/v1/send_knock", [roomID, knock.eventID]),
                                               body: knock.json, timeout: .seconds(30)).requireJSON()
        } catch {
            throw Self.remoteError(error, notFound: "\(server.rawValue) does not know room \(roomID)")
        }
        let entries = answer["knock_room_state"]?.arrayValue ?? []
        let state = (try? Self.inviteRoomState(entries, roomID: roomID, version: version)) ?? entries.compactMap(Self.strippedEvent)
        try await FederationInboxStore(db: db).saveInviteState(roomID: roomID, userID: user, eventID: knock.eventID,
                                                               state: Array(state.prefix(50)))
        _ = try await roomCall { try await roomServer.storeMembershipOutsideRoom(roomID: roomID, version: version, event: knock) }
    }
}
