import MatrixCore
import ServiceKit
import Storage

/// Name, avatar, heroes and member counts of a room, as a sliding sync room carries them.
extension ClientAPI {
    /// `changed` are the state events that changed since the room was last sent (nil on a
    /// full render): only fields they affect are returned then.
    func roomMeta(_ roomID: String, viewer: String, changed: [StoredEvent]?) async throws -> [String: JSON] {
        var out: [String: JSON] = [:]
        let changedTypes = Set((changed ?? []).map(\.event.type))
        let full = changed == nil
        let nameEvent = try await events.currentStateEvent(roomID, type: "m.room.name", stateKey: "")
        let name = nameEvent?.event.content["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        if full || changedTypes.contains("m.room.name") {
            if let name { out["name"] = .string(name) } else if !full { out["name"] = .null }
        }
        if full || changedTypes.contains("m.room.avatar") {
            let url = try await events.currentStateEvent(roomID, type: "m.room.avatar", stateKey: "")?.event.content["url"]?.stringValue
            if let url, !url.isEmpty { out["avatar"] = .string(url) } else if !full { out["avatar"] = .null }
        }
        guard full || changedTypes.contains("m.room.member") || changedTypes.contains("m.room.name") else { return out }
        let members = try await rooms.members(roomID)
        let joined = members.filter { $0.membership == "join" }
        let invited = members.filter { $0.membership == "invite" }
        out["joined_count"] = .int(Int64(joined.count))
        out["invited_count"] = .int(Int64(invited.count))
        if name == nil {
            // Joined first, then invited, then those who left, as /v3/sync's m.heroes.
            let left = members.filter { $0.membership == "leave" || $0.membership == "ban" }
            let picks = [joined, invited, left].flatMap { $0.filter { $0.userID != viewer }.sorted { $0.userID < $1.userID } }.prefix(5)
            let memberEvents = Dictionary(try await events.events(picks.map(\.eventID)).map { ($0.event.eventID, $0.event) },
                                          uniquingKeysWith: { a, _ in a })
            out["heroes"] = .array(picks.map { m in
                var h: [String: JSON] = ["user_id": .string(m.userID)]
                let c = memberEvents[m.eventID]?.content
                if let d = c?["displayname"]?.stringValue { h["displayname"] = .string(d) }
                if let a = c?["avatar_url"]?.stringValue { h["avatar_url"] = .string(a) }
                return .object(h)
            })
        }
        return out
    }
}
