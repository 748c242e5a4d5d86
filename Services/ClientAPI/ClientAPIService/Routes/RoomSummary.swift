import MatrixCore
import ServiceKit
import Storage

/// Room summaries (MSC3266, stable as /v1/room_summary): what a room is before joining it.
extension ClientAPI {
    func roomSummaryRoutes() -> RouteTable {
        var t = RouteTable()
        for path in ["/_matrix/client/v1/room_summary/:roomIdOrAlias",
                     "/_matrix/client/unstable/im.nheko.summary/summary/:roomIdOrAlias",
                     "/_matrix/client/unstable/im.nheko.summary/rooms/:roomIdOrAlias/summary"] {
            t.get(path, access: .optionalUser) { [self] req in
                try await roomSummary(try req.param("roomIdOrAlias"), viewer: req.auth)
            }
        }
        return t
    }

    private func roomSummary(_ idOrAlias: String, viewer: TokenOwner?) async throws -> MatrixResponse {
        let roomID: String
        do { roomID = try await resolveRoom(idOrAlias) } catch { throw MatrixError.notFound("Room not found.") }
        guard let room = try await describeRoom(roomID) else { throw MatrixError.notFound("Room not found.") }
        let membership = try await viewer.asyncMap { try await rooms.membership(roomID, $0.userID)?.membership } ?? nil
        // Who may look: members and invitees, or anyone when the room is open to discovery.
        guard room.open || membership == "join" || membership == "invite" || membership == "knock" else {
            throw MatrixError.notFound("Room not found.")
        }
        var out = room.summary
        if let membership { out["membership"] = .string(membership) }
        return .json(out)
    }

    /// A room as its summary shows it, its state (members left out), and whether anyone may
    /// look at it (join rule or history visibility open to discovery); nil for a room unknown here.
    func describeRoom(_ roomID: String) async throws -> (summary: JSON, state: [StateKey: Event], open: Bool)? {
        guard let version = try await events.roomVersion(roomID) else { return nil }
        var state: [StateKey: Event] = [:]
        for s in try await events.currentState(roomID) where s.event.type != "m.room.member" {
            if let k = s.event.stateTuple { state[k] = s.event }
        }
        let joinRule = state[.joinRules]?.content["join_rule"]?.stringValue ?? "invite"
        let visibility = state[.historyVisibility]?.content["history_visibility"]?.stringValue
        let open = ["public", "knock", "knock_restricted"].contains(joinRule) || visibility == "world_readable"
        let entry = PublicRoomEntry(
            roomID: roomID, joinedMembers: Int64(try await rooms.joinedMembers(roomID).count),
            name: state[StateKey("m.room.name", "")]?.content["name"]?.stringValue,
            topic: state[StateKey("m.room.topic", "")]?.content["topic"]?.stringValue,
            canonicalAlias: state[StateKey("m.room.canonical_alias", "")]?.content["alias"]?.stringValue,
            avatarURL: state[StateKey("m.room.avatar", "")]?.content["url"]?.stringValue,
            joinRule: joinRule, historyVisibility: visibility,
            guestAccess: state[StateKey("m.room.guest_access", "")]?.content["guest_access"]?.stringValue,
            roomType: state[.create]?.content["type"]?.stringValue)
        var out = Self.chunkEntry(entry)
        out["room_version"] = .string(version)
        if let enc = state[StateKey("m.room.encryption", "")]?.content["algorithm"]?.stringValue { out["encryption"] = .string(enc) }
        return (out, state, open)
    }
}

extension Optional {
    /// `map` with an async transform.
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
