import MatrixCore
import RoomServer
import ServiceKit
import Storage

extension ClientAPI {
    /// Runs a room-server call, turning its errors into Matrix errors.
    func roomCall<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as RoomServerError {
            switch e {
            case .unknownRoom: throw MatrixError.notFound("Unknown room")
            case .forbidden(let m): throw MatrixError.forbidden(m)
            case .invalid(let m): throw MatrixError.badJSON(m)
            case .tooLarge(let m): throw MatrixError.tooLarge(m)
            case .conflict: throw MatrixError.unknown("The room changed concurrently; try again")
            }
        }
    }

    func send(_ roomID: String, _ r: EventRequest) async throws -> EventResult {
        try await roomCall { try await roomServer.send(roomID: roomID, r) }
    }

    /// Sends a membership event with the target's profile on joins.
    func setMembership(roomID: String, sender: String, target: String, membership: String, reason: String?,
                       extra: [String: JSON] = [:]) async throws -> EventResult {
        var content = extra
        content["membership"] = .string(membership)
        if let reason { content["reason"] = .string(reason) }
        if membership == "join" || membership == "invite" || membership == "knock", let u = try await accounts.user(target) {
            if let d = u.displayname { content["displayname"] = .string(d) }
            if let a = u.avatarURL { content["avatar_url"] = .string(a) }
        }
        return try await send(roomID, EventRequest(sender: sender, type: "m.room.member", stateKey: target, content: .object(content)))
    }

    /// Room ID from `!id` or `#alias`.
    func resolveRoom(_ idOrAlias: String) async throws -> String {
        if idOrAlias.hasPrefix("#") {
            guard RoomAlias(idOrAlias) != nil else { throw MatrixError.invalidParam("Invalid room alias") }
            guard let r = try await rooms.resolveAlias(idOrAlias) else { throw MatrixError.notFound("Room alias not found") }
            return r.roomID
        }
        guard idOrAlias.hasPrefix("!") else { throw MatrixError.invalidParam("Invalid room ID or alias") }
        return idOrAlias
    }

    /// The highest position the user may read in a room: everything while joined; up to
    /// their leave (or ban) if they left; nothing if never joined (unless world readable).
    func readableUpTo(_ roomID: String, _ userID: String) async throws -> Int64 {
        guard let m = try await rooms.membership(roomID, userID) else {
            if try await isWorldReadable(roomID) { return try await db.currentStreamHead() }
            throw MatrixError.forbidden("You are not a member of this room")
        }
        switch m.membership {
        case "join": return try await db.currentStreamHead()
        case "leave", "ban":
            return m.streamPos
        default:
            if try await isWorldReadable(roomID) { return try await db.currentStreamHead() }
            throw MatrixError.forbidden("You are not a member of this room")
        }
    }

    func isWorldReadable(_ roomID: String) async throws -> Bool {
        let hv = try await events.currentStateEvent(roomID, type: "m.room.history_visibility", stateKey: "")
        return hv?.event.content["history_visibility"]?.stringValue == "world_readable"
    }

    func requireJoined(_ roomID: String, _ userID: String) async throws {
        guard try await rooms.membership(roomID, userID)?.membership == "join" else {
            throw MatrixError.forbidden("You are not joined to this room")
        }
    }
}

/// Stream tokens: `s<position>`.
enum StreamToken {
    static func parse(_ s: String?) throws -> Int64? {
        guard let s, !s.isEmpty else { return nil }
        let digits = s.hasPrefix("s") || s.hasPrefix("t") ? s.dropFirst() : Substring(s)
        // Negative positions are history fetched from other servers (backfill).
        guard let v = Int64(digits.prefix { $0 != "_" }) else { throw MatrixError.invalidParam("Invalid pagination token") }
        return v
    }
    static func make(_ p: Int64) -> String { "s\(p)" }
}
