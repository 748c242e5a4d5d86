import MatrixCore
import ServiceKit
import Storage

/// Presence: set and read a user's status; /sync marks its caller online.
extension ClientAPI {
    static let presenceStates: Set<String> = ["online", "offline", "unavailable"]

    func presenceRoutes() -> RouteTable {
        var t = RouteTable()
        t.put("/_matrix/client/v3/presence/:userId/status", rateLimited: true) { [self] req in
            guard try req.param("userId") == req.user.userID else { throw MatrixError.forbidden("Cannot set another user's presence") }
            let body = try req.jsonBody()
            let state = try body.requiredString("presence")
            guard Self.presenceStates.contains(state) else { throw MatrixError.invalidParam("Unknown presence state") }
            try await setPresence(req.user.userID, state, statusMsg: try body.string("status_msg"), keepStatus: false)
            return .empty
        }
        t.get("/_matrix/client/v3/presence/:userId/status") { [self] req in
            let target = try req.param("userId")
            let visible = target == req.user.userID ? true : try await rooms.shareRoom(target, req.user.userID)
            guard visible else {
                throw MatrixError.forbidden("You are not allowed to see their presence")
            }
            // Another server's user's presence is what their server last told us.
            if isLocalUser(target) {
                guard try await accounts.userExists(target) else { throw MatrixError.notFound("Unknown user") }
            }
            guard let p = try await PresenceStore(db: db).get(target) else { return .json(["presence": "offline"]) }
            return .json(Self.presenceContent(p))
        }
        return t
    }

    func setPresence(_ userID: String, _ state: String, statusMsg: String?, keepStatus: Bool) async throws {
        let pos = try await PresenceStore(db: db).set(userID, presence: state, statusMsg: statusMsg, keepStatus: keepStatus)
        presenceTouches.record(userID, state, at: nowMillis())
        // Everyone in the user's rooms may be waiting for this.
        announce(StreamNotice(pos: pos, rooms: try await rooms.joinedRooms(userID), users: [userID]))
        await publishPresence(userID)
    }

    /// The automatic update a syncing client makes: only when the state changes or the last
    /// one is a minute old, so long-polling does not write on every request.
    func touchPresence(_ userID: String, setPresence param: String?) async throws {
        let state = param ?? "online"
        guard state != "offline", Self.presenceStates.contains(state) else { return }
        if presenceTouches.isFresh(userID, state) { return }
        if let p = try await PresenceStore(db: db).get(userID), p.presence == state, nowMillis() - p.lastActiveTS < PresenceTouches.freshMillis {
            presenceTouches.record(userID, state, at: p.lastActiveTS)
            return
        }
        try await setPresence(userID, state, statusMsg: nil, keepStatus: true)
    }

    static func presenceContent(_ p: PresenceStore.Presence) -> JSON {
        let ago = max(0, nowMillis() - p.lastActiveTS)
        var o: [String: JSON] = [
            "presence": .string(p.presence), "last_active_ago": .int(ago),
            "currently_active": .bool(p.presence == "online" && ago < 300_000),
        ]
        if let m = p.statusMsg { o["status_msg"] = .string(m) }
        return .object(o)
    }
}
