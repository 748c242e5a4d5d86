import MatrixCore
import ServiceKit
import Storage

/// Event types that count as activity for the room list's recency order (MSC4186).
let bumpEventTypes = ["m.room.create", "m.room.message", "m.room.encrypted", "m.sticker", "m.call.invite",
                      "m.poll.start", "m.beacon_info", "org.matrix.msc3672.beacon_info"]

/// Account data of the user that shapes every response.
struct UserListSettings: Sendable {
    let ignored: Set<String>
    let direct: Set<String>
}

/// A room the user may see in a list. Lists are ordered by the room's latest event of any
/// kind (MSC4186: every event bubbles a room up); `bump_stamp`, the client's own sort key,
/// counts only the event types that bump and is read only for rooms that are sent.
struct ListedRoom: Sendable {
    let membership: MembershipRow
    let activity: Int64
    var roomID: String { membership.roomID }
    /// Invites and knocks: the user sees only the room's stripped state.
    var strippedOnly: Bool { membership.membership == "invite" || membership.membership == "knock" }
}

/// The rooms every list selects, and the room config each selected room gets.
struct ListSelection: Sendable {
    var counts: [String: Int] = [:]
    /// Room IDs in each list's windows, in list order.
    var windows: [String: [String]] = [:]
    var configs: [String: RoomConfig] = [:]
    var rooms: [String: ListedRoom] = [:]
    var directRooms: Set<String> = []
}

extension ClientAPI {
    /// The user's room list: joined and invited rooms, plus rooms left since `from` that the
    /// connection had been sent (so the client learns about the leave), newest activity first.
    /// `activity`: the latest event position of each joined room.
    func listedRooms(_ memberships: [MembershipRow], activity last: [String: Int64], upTo: Int64, from: Int64?,
                     sent: Set<String>, ignored: Set<String>) -> [ListedRoom] {
        let rows = memberships.filter { m in
            guard m.streamPos <= upTo else { return false }
            switch m.membership {
            case "join": return true
            case "invite": return !ignored.contains(m.sender)
            case "knock": return true
            case "leave", "ban": return from.map { m.streamPos > $0 } == true && sent.contains(m.roomID)
            default: return false
            }
        }
        return rows.map { m in
            // Rooms the user is not in sort by when that membership happened.
            ListedRoom(membership: m, activity: m.membership == "join" ? (last[m.roomID] ?? m.streamPos) : m.streamPos)
        }.sorted { ($0.activity, $1.roomID) > ($1.activity, $0.roomID) }
    }

    /// Each room's `bump_stamp`: for joined rooms the latest event that bumps, for the others
    /// the membership change.
    func bumpStamps(_ rooms: [ListedRoom], upTo: Int64) async throws -> [String: Int64] {
        let joined = rooms.filter { $0.membership.membership == "join" }.map(\.roomID)
        let bumps = try await events.latestPositions(joined, types: bumpEventTypes, upTo: upTo)
        return Dictionary(rooms.map { r in
            (r.roomID, r.membership.membership == "join" ? (bumps[r.roomID] ?? r.membership.streamPos) : r.membership.streamPos)
        }, uniquingKeysWith: { a, _ in a })
    }

    /// The user's settings a response depends on, read in one query: users ignored (their
    /// messages are left out) and rooms marked as direct chats in `m.direct`.
    func slidingSyncSettings(_ userID: String) async throws -> UserListSettings {
        let found = try await userData.accountData(userID, roomID: "", types: ["m.ignored_user_list", "m.direct"])
        var direct: Set<String> = []
        if let raw = found["m.direct"], let o = try? JSON.parse(raw).objectValue {
            direct = Set(o.values.flatMap { $0.arrayValue?.compactMap(\.stringValue) ?? [] })
        }
        return UserListSettings(ignored: Self.ignoredUsers(in: found["m.ignored_user_list"]), direct: direct)
    }

    func selectLists(_ req: SlidingSyncRequest, all: [ListedRoom], direct: Set<String>) async throws -> ListSelection {
        var sel = ListSelection()
        sel.directRooms = direct
        var roomTypes: [String: String?] = [:]
        var spaceChildren: [String: Set<String>] = [:]
        for (name, list) in req.lists.sorted(by: { $0.key < $1.key }) {
            var matching: [ListedRoom] = []
            for r in all {
                if try await matches(list.filters, r, direct: sel.directRooms, roomTypes: &roomTypes, spaceChildren: &spaceChildren) {
                    matching.append(r)
                }
            }
            sel.counts[name] = matching.count
            var window: [String] = []
            var seen = Set<Int>()
            for (a, b) in list.ranges where a < matching.count {
                for i in a...min(b, matching.count - 1) where seen.insert(i).inserted { window.append(matching[i].roomID) }
            }
            sel.windows[name] = window
            for id in window {
                sel.configs[id] = sel.configs[id].map { $0.merged(list.config) } ?? list.config
            }
        }
        for r in all { sel.rooms[r.roomID] = r }
        return sel
    }

    private func matches(_ f: ListFilters, _ r: ListedRoom, direct: Set<String>, roomTypes: inout [String: String?],
                         spaceChildren: inout [String: Set<String>]) async throws -> Bool {
        if let inv = f.isInvite, inv != (r.membership.membership == "invite") { return false }
        if let dm = f.isDM, dm != direct.contains(r.roomID) { return false }
        if let spaces = f.spaces {
            var inSpace = false
            for s in spaces {
                if spaceChildren[s] == nil { spaceChildren[s] = try await children(ofSpace: s) }
                if spaceChildren[s]!.contains(r.roomID) { inSpace = true; break }
            }
            if !inSpace { return false }
        }
        if f.roomTypes != nil || !f.notRoomTypes.isEmpty {
            if roomTypes[r.roomID] == nil { roomTypes[r.roomID] = .some(try await roomType(r.roomID)) }
            let t = roomTypes[r.roomID]!
            if f.notRoomTypes.contains(t) { return false }
            if let allowed = f.roomTypes, !allowed.contains(t) { return false }
        }
        return true
    }

    private func children(ofSpace spaceID: String) async throws -> Set<String> {
        let state = try await events.currentState(spaceID, pairs: [], anyKeyTypes: ["m.space.child"])
        // A child event without `via` is a removed child.
        return Set(state.filter { !($0.event.content["via"]?.arrayValue?.isEmpty ?? true) }.compactMap(\.event.stateKey))
    }

    private func roomType(_ roomID: String) async throws -> String? {
        try await events.currentStateEvent(roomID, type: "m.room.create", stateKey: "")?.event.content["type"]?.stringValue
    }
}
