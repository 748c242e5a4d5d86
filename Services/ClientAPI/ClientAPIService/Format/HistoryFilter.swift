import MatrixCore
import ServiceKit
import Storage

/// Which events of a room a user may see, per `m.room.history_visibility` at each event and
/// the user's membership at it. Rooms are linear here, so "at the event" is "the latest
/// state change before its position".
struct HistoryFilter {
    let userID: String
    /// (position, visibility) changes, ascending.
    let visibilities: [(Int64, HistoryVisibility)]
    /// (position, membership) of the user, ascending; empty when every event is visible anyway.
    let memberships: [(Int64, Membership?)]
    let everythingVisible: Bool

    static func load(_ api: ClientAPI, roomID: String, userID: String) async throws -> HistoryFilter {
        try await loadMany(api, rooms: [roomID], userID: userID)[roomID] ?? HistoryFilter(
            userID: userID, visibilities: [], memberships: [], everythingVisible: true)
    }

    /// Filters for many rooms in two queries. With `asOf` (a head the caller saw; the filters
    /// then apply to events at or below it), the visibility read is shared with other
    /// requests asking the same.
    static func loadMany(_ api: ClientAPI, rooms: [String], userID: String,
                         asOf: Int64? = nil) async throws -> [String: HistoryFilter] {
        let type = "m.room.history_visibility"
        let raw = if let asOf {
            try await api.sharedReads.stateHistory(rooms: rooms, type: type, stateKey: "", asOf: asOf)
        } else {
            try await api.events.stateHistory(rooms: rooms, type: type, stateKey: "")
        }
        let vis = raw.mapValues { $0.map { ($0.0, HistoryVisibility(content: $0.1["content"] ?? [:])) } }
        var out: [String: HistoryFilter] = [:]
        var restricted: [String] = []
        for r in rooms {
            let v = vis[r] ?? []
            // Shared or world-readable history needs no per-event check for a member.
            if v.allSatisfy({ $0.1 == .shared || $0.1 == .worldReadable }) {
                out[r] = HistoryFilter(userID: userID, visibilities: v, memberships: [], everythingVisible: true)
            } else {
                restricted.append(r)
            }
        }
        let mems = try await api.events.stateHistory(rooms: restricted, type: "m.room.member", stateKey: userID)
        for r in restricted {
            let m = (mems[r] ?? []).map { ($0.0, $0.1["content"]?["membership"]?.stringValue.flatMap(Membership.init(rawValue:))) }
            out[r] = HistoryFilter(userID: userID, visibilities: vis[r] ?? [], memberships: m, everythingVisible: false)
        }
        return out
    }

    func visible(_ e: StoredEvent) -> Bool {
        if everythingVisible { return true }
        // Users always see their own membership changes.
        if e.event.type == "m.room.member", e.event.stateKey == userID { return true }
        let pos = e.streamPos
        let hv = visibilities.last { $0.0 < pos }?.1 ?? .shared
        let membership = memberships.last { $0.0 < pos }?.1
        let joinedAfter = memberships.contains { $0.0 >= pos && $0.1 == .join }
            || (memberships.last?.1 == .join)
        return hv.allows(membershipAtEvent: membership, joinedAfterEvent: joinedAfter)
    }

    func apply(_ list: [StoredEvent]) -> [StoredEvent] { everythingVisible ? list : list.filter(visible) }
}

extension ClientAPI {
    func historyFilter(_ roomID: String, _ userID: String) async throws -> HistoryFilter {
        try await HistoryFilter.load(self, roomID: roomID, userID: userID)
    }
}
