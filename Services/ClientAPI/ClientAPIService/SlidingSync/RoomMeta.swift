import MatrixCore
import ServiceKit
import Storage

/// Name, avatar, heroes and member counts of a room, as a sliding sync room carries them.
extension ClientAPI {
    /// `changed` are the state events that changed since the room was last sent (nil on a
    /// full render): only fields they affect are returned then. The name is the room's
    /// `m.room.name`; an unnamed room gets heroes instead, and the client names it from them.
    func roomMeta(_ roomID: String, prefetch p: RoomPagePrefetch, changed: [StoredEvent]?) -> [String: JSON] {
        var out: [String: JSON] = [:]
        let changedTypes = Set((changed ?? []).map(\.event.type))
        let full = changed == nil
        let name = p.name(roomID)
        if full || changedTypes.contains("m.room.name") {
            if let name { out["name"] = .string(name) } else if !full { out["name"] = .null }
        }
        if full || changedTypes.contains("m.room.avatar") {
            let url = p.stateEvent(roomID, "m.room.avatar")?.event.content["url"]?.stringValue
            if let url, !url.isEmpty { out["avatar"] = .string(url) } else if !full { out["avatar"] = .null }
        }
        guard full || changedTypes.contains("m.room.member") || changedTypes.contains("m.room.name") else { return out }
        let summary = p.summaries[roomID] ?? RoomSummaryRow()
        out["joined_count"] = .int(summary.joined)
        out["invited_count"] = .int(summary.invited)
        if name == nil {
            out["heroes"] = .array(summary.heroes.map { m in
                var h: [String: JSON] = ["user_id": .string(m.userID)]
                if let d = m.displayName { h["displayname"] = .string(d) }
                if let a = m.avatarURL { h["avatar_url"] = .string(a) }
                return .object(h)
            })
        }
        return out
    }
}
