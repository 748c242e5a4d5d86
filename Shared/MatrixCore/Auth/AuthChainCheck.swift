/// Checks events received together with their auth events (a `send_join` answer, an
/// `/event_auth` answer): each must pass the auth rules against its own auth events, found
/// among the others or among events already known, and is checked after them. Events whose
/// auth events are missing or failed fail too. Signatures and hashes are checked before.
public enum AuthChainCheck {
    public struct Result: Sendable {
        /// Events that passed, in the order they were checked (auth events first).
        public let accepted: [Event]
        /// Events that failed, with the reason.
        public let rejected: [(event: Event, reason: String)]
    }

    /// `known` holds events stored already (trusted as checked); `create` is the room's
    /// create event when it is known, which room version 12 events need but do not list.
    public static func check(_ events: [Event], known: [String: Event], roomVersion: RoomVersion) -> Result {
        var byID: [String: Event] = [:]
        for e in events { byID[e.eventID] = e }
        var accepted: [Event] = []
        var passed: [String: Event] = known
        var failed: [String: String] = [:]
        let create = (events + Array(known.values)).first { $0.type == "m.room.create" && $0.stateKey == "" }

        // Depth first, then a fixed order; an event whose auth events come later in that
        // order (a broken depth) is retried once they are decided.
        var pending = byID.values.sorted { ($0.depth, $0.eventID) < ($1.depth, $1.eventID) }
        var progress = true
        while !pending.isEmpty && progress {
            progress = false
            var next: [Event] = []
            for e in pending {
                if known[e.eventID] != nil { progress = true; continue }
                let authIDs = e.authEventIDs
                if let bad = authIDs.first(where: { failed[$0] != nil }) {
                    failed[e.eventID] = "its auth event \(bad) failed"
                    progress = true
                    continue
                }
                let undecided = authIDs.filter { passed[$0] == nil }
                if !undecided.isEmpty {
                    if undecided.allSatisfy({ byID[$0] != nil }) { next.append(e) } else {
                        failed[e.eventID] = "its auth events \(undecided.filter { byID[$0] == nil }.joined(separator: ", ")) are unknown"
                        progress = true
                    }
                    continue
                }
                let authList = authIDs.compactMap { passed[$0] }
                var authMap: StateMap = [:]
                for a in authList { if let k = a.stateTuple { authMap[k] = a } }
                if e.type != "m.room.create", let create, create.roomID == e.roomID { authMap[.create] = create }
                do {
                    try AuthRules.checkAuthEventsSelection(event: e, authEvents: authList, roomVersion: roomVersion)
                    try AuthRules.check(event: e, authEvents: authMap, roomVersion: roomVersion)
                    passed[e.eventID] = e
                    accepted.append(e)
                } catch {
                    failed[e.eventID] = "\(error)"
                }
                progress = true
            }
            pending = next
        }
        for e in pending { failed[e.eventID] = "its auth events form a cycle" }
        let rejected = byID.values.compactMap { e in failed[e.eventID].map { (e, $0) } }
        return Result(accepted: accepted, rejected: rejected)
    }
}
