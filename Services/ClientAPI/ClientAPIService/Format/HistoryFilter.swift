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
        var vis: [(Int64, HistoryVisibility)] = []
        for try await (p, j) in try await api.db.query("""
            SELECT stream_pos, json FROM events WHERE room_id = \(roomID) AND type = 'm.room.history_visibility' AND state_key = ''
            ORDER BY stream_pos
            """).decode((Int64, String).self) {
            vis.append((p, HistoryVisibility(content: (try JSON.parse(j))["content"] ?? [:])))
        }
        // Shared or world-readable history needs no per-event check for a member.
        if vis.allSatisfy({ $0.1 == .shared || $0.1 == .worldReadable }) {
            return HistoryFilter(userID: userID, visibilities: vis, memberships: [], everythingVisible: true)
        }
        var mem: [(Int64, Membership?)] = []
        for try await (p, j) in try await api.db.query("""
            SELECT stream_pos, json FROM events WHERE room_id = \(roomID) AND type = 'm.room.member' AND state_key = \(userID)
            ORDER BY stream_pos
            """).decode((Int64, String).self) {
            mem.append((p, (try JSON.parse(j))["content"]?["membership"]?.stringValue.flatMap(Membership.init(rawValue:))))
        }
        return HistoryFilter(userID: userID, visibilities: vis, memberships: mem, everythingVisible: false)
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
