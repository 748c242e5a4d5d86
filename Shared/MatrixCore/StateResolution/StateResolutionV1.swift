import Crypto
import Foundation

extension StateResolution {
    /// The version 1 algorithm: conflicts are settled by depth and a hash of the event
    /// ID, checking power levels, then join rules, then memberships, then the rest against
    /// the state resolved so far. Kept for room version 1, whose rooms depend on it.
    public static func resolveV1(
        stateSets: [[StateKey: String]],
        roomVersion: RoomVersion,
        event: (String) -> Event?
    ) -> [StateKey: String] {
        let split = StateSplit.v1(stateSets)
        if split.conflicted.isEmpty { return split.unconflicted }

        var resolved = split.unconflicted
        var authState: StateMap = split.unconflicted.compactMapValues(event)
        let conflicts = split.conflicted.map { key, ids in (key: key, events: ids.compactMap(event)) }
            .filter { !$0.events.isEmpty }
            .sorted { $0.key < $1.key }

        // Each group is resolved against the state before it, then joins that state.
        let groups: [(Conflict) -> Bool] = [
            { $0.key == .powerLevels },
            { $0.key.type == "m.room.join_rules" },
            { $0.key.type == "m.room.member" },
        ]
        var remaining = conflicts
        for belongs in groups {
            let group = remaining.filter(belongs)
            remaining.removeAll(where: belongs)
            var winners: StateMap = [:]
            for conflict in group {
                winners[conflict.key] = resolveAuthConflict(conflict.events, authState: authState, roomVersion: roomVersion)
            }
            authState.merge(winners) { _, new in new }
            resolved.merge(winners.mapValues(\.eventID)) { _, new in new }
        }
        for conflict in remaining {
            let winner = resolveOtherConflict(conflict.events, authState: authState, roomVersion: roomVersion)
            resolved[conflict.key] = winner.eventID
        }
        return resolved
    }

    typealias Conflict = (key: StateKey, events: [Event])

    /// Oldest first (ascending depth, then descending hash); each later event replaces the
    /// last accepted one while it passes auth, and the first failure ends the run.
    static func resolveAuthConflict(_ events: [Event], authState: StateMap, roomVersion: RoomVersion) -> Event {
        let ordered = events.sorted { a, b in
            a.depth != b.depth ? a.depth < b.depth : sha1Hex(a.eventID) > sha1Hex(b.eventID)
        }
        var state = authState
        var winner = ordered[0]
        for candidate in ordered.dropFirst() {
            if let key = winner.stateTuple { state[key] = winner }
            do {
                try AuthRules.check(event: candidate, authEvents: state, roomVersion: roomVersion)
                winner = candidate
            } catch {
                break
            }
        }
        return winner
    }

    /// Newest first (descending depth, then ascending hash): the first that passes auth,
    /// or the oldest if none does.
    static func resolveOtherConflict(_ events: [Event], authState: StateMap, roomVersion: RoomVersion) -> Event {
        let ordered = events.sorted { a, b in
            a.depth != b.depth ? a.depth > b.depth : sha1Hex(a.eventID) < sha1Hex(b.eventID)
        }
        for candidate in ordered {
            if (try? AuthRules.check(event: candidate, authEvents: authState, roomVersion: roomVersion)) != nil {
                return candidate
            }
        }
        return ordered[ordered.count - 1]
    }

    static func sha1Hex(_ string: String) -> String {
        Insecure.SHA1.hash(data: Data(string.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
