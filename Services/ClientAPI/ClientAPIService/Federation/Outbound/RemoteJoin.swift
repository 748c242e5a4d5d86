import FederationClient
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Joining a room this server is not in, through a server that is (the spec's "Joining
/// Rooms"): `make_join`, our signature, `send_join`, then the room's state and auth chain
/// checked and stored with the join.
extension ClientAPI {
    /// Joins `user` to a room given by ID or alias, through `via` servers when this server
    /// is not in it. Returns the room ID.
    func joinRoom(_ idOrAlias: String, user: String, via: [String], reason: String?) async throws -> String {
        var (roomID, candidates) = try await roomAndServers(idOrAlias, via: via)
        if try await events.serverIsJoined(roomID, server: serverName.rawValue) {
            _ = try await setMembership(roomID: roomID, sender: user, target: user, membership: "join", reason: reason)
            return roomID
        }
        // Who might be in the room: the servers given, whoever invited the user, the room
        // ID's server (before v12), and the servers we last knew in it.
        if let m = try await rooms.membership(roomID, user), let inviter = UserID(m.sender) { candidates.append(inviter.server.rawValue) }
        if let s = RoomID(roomID)?.server { candidates.append(s.rawValue) }
        candidates += try await events.joinedServers(roomID)
        var seen = Set<String>()
        let servers = candidates.compactMap(ServerName.init).filter { $0 != serverName && seen.insert($0.rawValue).inserted }
        guard !servers.isEmpty else {
            // No other server to ask: a room of ours that everyone left; the room decides.
            _ = try await setMembership(roomID: roomID, sender: user, target: user, membership: "join", reason: reason)
            return roomID
        }
        var lastError = MatrixError.notFound("No server could help join \(roomID)")
        for server in servers.prefix(5) {
            do {
                try await remoteJoin(roomID, user: user, through: server, reason: reason)
                return roomID
            } catch let e as MatrixError {
                logger.info("joining \(roomID) through \(server.rawValue) failed: \(e)")
                lastError = e
            }
        }
        throw lastError
    }

    private func remoteJoin(_ roomID: String, user: String, through server: ServerName, reason: String?) async throws {
        let versions = RoomVersion.all.map { ("ver", $0.id) }
        let made: JSON
        do {
            made = try await federation.get(server, FederationPath.target("/_matrix/federation/v1/make_join", [roomID, user], query: versions),
                                            timeout: .seconds(20))
        } catch {
            if error.errcode == "M_INCOMPATIBLE_ROOM_VERSION" {
                throw MatrixError(.badRequest, "M_INCOMPATIBLE_ROOM_VERSION", "This server does not support the room's version")
            }
            throw Self.remoteError(error, notFound: "\(server.rawValue) does not know room \(roomID)")
        }
        guard let version = RoomVersion.named(made["room_version"]?.stringValue ?? "1") else {
            throw MatrixError(.badRequest, "M_INCOMPATIBLE_ROOM_VERSION", "This server does not support the room's version")
        }
        let join = try await finishedMembership(made["event"], roomID: roomID, user: user, membership: "join", version: version,
                                                reason: reason)
        let answer: JSON
        do {
            answer = try await federation.send("PUT", to: server,
                                               FederationPath.target("/_matrix/federation/v2/send_join", [roomID, join.eventID]),
                                               body: join.json, timeout: .seconds(60)).requireJSON()
        } catch {
            throw Self.remoteError(error, notFound: "\(server.rawValue) does not know room \(roomID)")
        }
        // The resident's countersigned copy, when it sent one that is ours (same ID).
        var signedJoin = join
        if let returned = answer["event"], let v = try? await PDUVerifier(keys: federation.keys).verify(returned, version: version),
           v.event.eventID == join.eventID, !v.redacted {
            signedJoin = v.event
        }
        let (state, chain) = try await checkedJoinState(answer, roomID: roomID, version: version, join: signedJoin, from: server)
        _ = try await roomCall {
            try await roomServer.importJoin(roomID: roomID, version: version, join: signedJoin, state: state, authChain: chain)
        }
    }

    /// A template from another server, checked to be the membership we asked for, with our
    /// fields filled in and signed.
    func finishedMembership(_ template: JSON?, roomID: String, user: String, membership: String, version: RoomVersion,
                            reason: String?) async throws -> Event {
        guard var fields = template?.objectValue, fields["type"]?.stringValue == "m.room.member",
              fields["room_id"]?.stringValue == roomID, fields["sender"]?.stringValue == user, fields["state_key"]?.stringValue == user,
              fields["content"]?["membership"]?.stringValue == membership else {
            throw MatrixError(.badGateway, "M_UNKNOWN", "The remote server sent an unusable \(membership) template")
        }
        var content = fields["content"]?.objectValue ?? [:]
        if let reason { content["reason"] = .string(reason) }
        if membership == "join", let u = try await accounts.user(user) {
            if let d = u.displayname { content["displayname"] = .string(d) }
            if let a = u.avatarURL { content["avatar_url"] = .string(a) }
        }
        fields["content"] = .object(content)
        fields["origin"] = .string(serverName.rawValue)
        fields["origin_server_ts"] = .int(nowMillis())
        fields["event_id"] = nil
        do {
            return try finalizeEvent(.object(fields), roomVersion: version, serverName: serverName, signingKey: signingKey)
        } catch {
            throw MatrixError(.badGateway, "M_UNKNOWN", "The remote \(membership) template cannot be signed: \(error)")
        }
    }

    /// The state and auth chain of a `send_join` answer that check out: signatures and
    /// hashes, each event against its auth events, one create event that is the room's,
    /// and our join allowed by that state. Returns the state and the rest of the chain.
    private func checkedJoinState(_ answer: JSON, roomID: String, version: RoomVersion, join: Event,
                                  from server: ServerName) async throws -> ([Event], [Event]) {
        let verifier = PDUVerifier(keys: federation.keys)
        var stateIDs = Set<String>()
        var all: [Event] = []
        for (list, isState) in [(answer["state"], true), (answer["auth_chain"], false)] {
            for p in list?.arrayValue ?? [] {
                let v: PDUVerifier.Verified
                do {
                    v = try await verifier.verify(p, version: version)
                } catch {
                    logger.info("join of \(roomID): \(server.rawValue) sent a PDU that fails its checks: \(error)")
                    continue
                }
                guard v.event.roomID == roomID else { continue }
                all.append(v.event)
                if isState { stateIDs.insert(v.event.eventID) }
            }
        }
        let known = Dictionary(try await events.events(all.map(\.eventID)).map { ($0.event.eventID, $0.event) }) { a, _ in a }
        let checked = AuthChainCheck.check(all, known: known, roomVersion: version)
        for (e, why) in checked.rejected { logger.info("join of \(roomID): \(server.rawValue) sent \(e.eventID), refused: \(why)") }
        var passed = Set(checked.accepted.map(\.eventID)).union(known.keys)
        var state: StateMap = [:]
        for e in all where stateIDs.contains(e.eventID) && passed.contains(e.eventID) {
            if let k = e.stateTuple, state[k] == nil { state[k] = e }
        }
        guard let create = state[.create] else {
            throw MatrixError(.badGateway, "M_UNKNOWN", "\(server.rawValue) sent no valid create event for \(roomID)")
        }
        if version.roomIDFromCreateEvent, create.roomID != roomID {
            throw MatrixError(.badGateway, "M_UNKNOWN", "\(server.rawValue) sent the create event of another room")
        }
        let claimed = create.content["room_version"]?.stringValue ?? "1"
        if claimed != version.id {
            throw MatrixError(.badGateway, "M_UNKNOWN", "\(server.rawValue) sent a create event of room version \(claimed)")
        }
        do {
            try AuthRules.check(event: join, authEvents: AuthRules.stateForCheck(of: join, in: state, roomVersion: version),
                                roomVersion: version)
        } catch {
            throw MatrixError.forbidden("The room's state does not allow the join: \(error)")
        }
        let stateList = Array(state.values)
        passed.subtract(stateList.map(\.eventID))
        let chain = checked.accepted.filter { passed.contains($0.eventID) }
        return (stateList, chain)
    }
}

extension ClientAPI {
    /// A room ID or alias resolved to the room ID, with the servers to try: `via`, plus those
    /// a remote alias lookup names. Joins and knocks start here.
    func roomAndServers(_ idOrAlias: String, via: [String]) async throws -> (String, [String]) {
        guard idOrAlias.hasPrefix("#") else {
            guard RoomID(idOrAlias) != nil else { throw MatrixError.invalidParam("Invalid room ID or alias") }
            return (idOrAlias, via)
        }
        guard let alias = RoomAlias(idOrAlias) else { throw MatrixError.invalidParam("Invalid room alias") }
        if alias.server == serverName { return (try await resolveRoom(idOrAlias), via) }
        let found = try await remoteAlias(alias)
        return (found["room_id"]?.stringValue ?? "", via + (found["servers"]?.arrayValue ?? []).compactMap(\.stringValue))
    }
}
