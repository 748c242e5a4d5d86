import FederationClient
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Other servers' users joining and leaving rooms we are in (`make_join`/`send_join`,
/// `make_leave`/`send_leave`, knocks in FederationKnock.swift), and other servers inviting our users.
extension ClientAPI {
    func federationMembershipRoutes(_ t: inout FederationRouteTable) {
        t.get("/_matrix/federation/v1/make_join/:roomId/:userId") { [self] req, origin in
            let (roomID, version) = try await residentRoom(try req.param("roomId"))
            let userID = try remoteUser(try req.param("userId"), of: origin)
            let supported = req.query["ver"] ?? ["1"]
            guard supported.contains(version.id) else {
                throw MatrixError(.badRequest, "M_INCOMPATIBLE_ROOM_VERSION",
                                  "Your server does not support room version \(version.id)", extra: ["room_version": .string(version.id)])
            }
            var content: [String: JSON] = ["membership": "join"]
            if let via = try await restrictedJoinAuthoriser(roomID, userID, version) { content["join_authorised_via_users_server"] = .string(via) }
            let (template, v) = try await roomCall {
                try await roomServer.template(roomID: roomID, EventRequest(sender: userID, type: "m.room.member", stateKey: userID,
                                                                          content: .object(content)))
            }
            return .json(["event": template, "room_version": .string(v.id)])
        }
        t.put("/_matrix/federation/v2/send_join/:roomId/:eventId") { [self] req, origin in
            let (roomID, version) = try await residentRoom(try req.param("roomId"))
            let event = try await membershipEvent(req, origin, roomID: roomID, version: version, membership: "join")
            if let via = event.content["join_authorised_via_users_server"]?.stringValue {
                guard UserID(via)?.server == serverName else {
                    throw MatrixError.invalidParam("join_authorised_via_users_server is not a user of this server")
                }
            }
            let signed = try countersigned(event, version)
            let state = try await acceptMembership(signed, roomID: roomID)
            let chain = try await authChain(of: state.flatMap(\.event.authEventIDs) + signed.authEventIDs, roomID: roomID)
            let others = try await events.joinedServers(roomID).filter { $0 != origin.rawValue }
            return .json([
                "origin": .string(serverName.rawValue),
                "state": .array(state.map { pdu($0, version) }),
                "auth_chain": .array(chain.map { pdu($0, version) }),
                "event": signed.json,
                "members_omitted": false,
                "servers_in_room": JSON(others),
            ])
        }
        t.get("/_matrix/federation/v1/make_leave/:roomId/:userId") { [self] req, origin in
            let (roomID, _) = try await residentRoom(try req.param("roomId"))
            let userID = try remoteUser(try req.param("userId"), of: origin)
            let (template, v) = try await roomCall {
                try await roomServer.template(roomID: roomID, EventRequest(sender: userID, type: "m.room.member", stateKey: userID,
                                                                          content: ["membership": "leave"]))
            }
            return .json(["event": template, "room_version": .string(v.id)])
        }
        t.put("/_matrix/federation/v2/send_leave/:roomId/:eventId") { [self] req, origin in
            let (roomID, version) = try await residentRoom(try req.param("roomId"))
            let event = try await membershipEvent(req, origin, roomID: roomID, version: version, membership: "leave")
            _ = try await acceptMembership(try countersigned(event, version), roomID: roomID)
            return .json([:])
        }
        t.put("/_matrix/federation/v2/invite/:roomId/:eventId") { [self] req, origin in
            try await receiveInvite(req, origin)
        }
        federationKnockRoutes(&t)
    }

    /// A room we are joined to, with its version; 404 for any other.
    func residentRoom(_ roomID: String) async throws -> (String, RoomVersion) {
        guard let name = try await events.roomVersion(roomID), let version = RoomVersion.named(name),
              try await events.serverIsJoined(roomID, server: serverName.rawValue) else {
            throw MatrixError.notFound("This server is not in room \(roomID)")
        }
        return (roomID, version)
    }

    /// A user ID that must belong to the requesting server.
    func remoteUser(_ raw: String, of origin: ServerName) throws -> String {
        guard let user = UserID(raw) else { throw MatrixError.invalidParam("Invalid user ID") }
        guard user.server == origin else { throw MatrixError.forbidden("\(raw) is not a user of \(origin.rawValue)") }
        return raw
    }

    /// The membership event in a `send_join` / `send_leave` body, checked as the spec asks:
    /// format, signatures and hash, the event ID in the path, and the fields a membership
    /// handshake fixes.
    func membershipEvent(_ req: MatrixRequest, _ origin: ServerName, roomID: String, version: RoomVersion,
                                 membership: String) async throws -> Event {
        // A restricted join names one of our users as its authoriser: we sign it below.
        let event = try await verifiedPDU(try req.json(), version: version, signedHere: serverName.rawValue)
        guard event.eventID == (try req.param("eventId")) else { throw MatrixError.invalidParam("The event ID does not match the path") }
        guard event.roomID == roomID else { throw MatrixError.invalidParam("The event is for another room") }
        guard event.type == "m.room.member" else { throw MatrixError.invalidParam("The event is not an m.room.member event") }
        guard event.membership == membership else { throw MatrixError.invalidParam("The membership is not \(membership)") }
        guard UserID(event.sender)?.server == origin else { throw MatrixError.invalidParam("The sender is not a user of \(origin.rawValue)") }
        guard event.stateKey == event.sender else { throw MatrixError.invalidParam("The state_key is not the sender") }
        return event
    }

    /// Steps 1–3 of the checks on a received PDU; a PDU that only passes redacted is refused
    /// here, where the sender is asking us to take it as it is.
    func verifiedPDU(_ json: JSON, version: RoomVersion, signedHere: String? = nil) async throws -> Event {
        let verified: PDUVerifier.Verified
        do {
            verified = try await PDUVerifier(keys: federation.keys).verify(json, version: version, signedHere: signedHere)
        } catch {
            throw MatrixError.invalidParam(error.description)
        }
        guard !verified.redacted else { throw MatrixError.invalidParam("The event's content hash does not match") }
        return verified.event
    }

    /// The event with our signature added.
    func countersigned(_ event: Event, _ version: RoomVersion) throws -> Event {
        do {
            return Event(eventID: event.eventID,
                         json: try event.json.addingEventSignature(for: version, server: serverName.rawValue, key: signingKey))
        } catch {
            throw MatrixError.badJSON("The event cannot be signed: \(error)")
        }
    }

    /// Takes another server's membership event into the room and returns the state it was
    /// checked against, in stream order (a repeated `send_join` gets the same answer).
    func acceptMembership(_ event: Event, roomID: String) async throws -> [StoredEvent] {
        let outcome = try await roomCall { try await roomServer.receive(roomID: roomID, event: event) }
        let before: [String]
        switch outcome {
        case .accepted(_, let state):
            before = state.values.map(\.eventID)
        case .duplicate:
            guard let stored = try await events.event(event.eventID) else {
                throw MatrixError.forbidden("The event was refused earlier")
            }
            before = try await events.stateMap(roomID, atPos: stored.streamPos - 1).values.map(\.eventID)
        case .rejected(let why), .softFailed(let why):
            throw MatrixError.forbidden(why)
        case .missingAuthEvents(let ids):
            throw MatrixError.invalidParam("Unknown auth events: \(ids.joined(separator: ", "))")
        }
        return try await events.events(before)
    }

    /// For a join under a restricted rule that the user's membership alone does not allow:
    /// a local member who may invite, to authorise it; nil when no authorisation is needed.
    private func restrictedJoinAuthoriser(_ roomID: String, _ userID: String, _ version: RoomVersion) async throws -> String? {
        let room = try await roomCall { try await roomServer.state(roomID: roomID) }
        guard let rule = JoinRule(state: room.state), rule.allowsRestrictedJoins, rule.isSupported(in: version) else { return nil }
        if let m = room.membership(of: userID), m == "join" || m == "invite" { return nil }
        let allowed = JoinRule.allowedRoomIDs(content: room.state[.joinRules]?.content ?? [:])
        var knowsOne = false
        var satisfied = false
        for r in allowed where try await events.roomVersion(r) != nil {
            knowsOne = true
            if try await rooms.membership(r, userID)?.membership == "join" { satisfied = true; break }
        }
        guard satisfied else {
            if !knowsOne {
                throw MatrixError(.badRequest, "M_UNABLE_TO_AUTHORISE_JOIN", "This server knows none of the rooms that allow the join")
            }
            throw MatrixError.forbidden("You are not invited to this room and meet none of its join conditions")
        }
        let levels = room.powerLevels
        for (key, member) in room.state.sorted(by: { $0.key < $1.key })
        where key.type == "m.room.member" && member.membership == "join" && UserID(key.stateKey)?.server == serverName {
            if levels.user(key.stateKey, hasAtLeast: levels.invite) { return key.stateKey }
        }
        throw MatrixError(.badRequest, "M_UNABLE_TO_GRANT_JOIN", "No user of this server may invite you; try another server")
    }
}
