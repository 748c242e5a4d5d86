extension StateResolution {
    /// The version 2 algorithm (room versions 2–11), and its version 12 revision, which
    /// starts from an empty state and adds the conflicted state subgraph.
    public static func resolveV2(
        stateSets: [[StateKey: String]],
        roomVersion: RoomVersion,
        rejectedEventIDs: Set<String> = [],
        event: (String) -> Event?
    ) -> [StateKey: String] {
        let split = StateSplit.v2(stateSets)
        if split.conflicted.isEmpty { return split.unconflicted }

        return withoutActuallyEscaping(event) { fetch in
            let graph = EventGraph(fetch: fetch, roomVersion: roomVersion)
            let conflicted = split.conflicted.values.reduce(into: Set<String>()) { $0.formUnion($1) }
            var fullConflictedSet = conflicted.union(graph.authDifference(stateSets))
            if roomVersion.stateResolutionReplaysSubgraph {
                fullConflictedSet.formUnion(graph.conflictedSubgraph(conflicted))
            }
            fullConflictedSet = fullConflictedSet.filter { graph.event($0) != nil }

            // 1–2: power events (and their auth ancestors) in power order, checked in turn.
            let powerEvents = fullConflictedSet.filter { graph.event($0).map(isPowerEvent) ?? false }
            let powerOrdered = graph.reverseTopologicalPowerOrder(Array(powerEvents), within: fullConflictedSet)
            let base = roomVersion.stateResolutionReplaysSubgraph ? [:] : split.unconflicted
            var resolved = graph.iterativeAuthChecks(powerOrdered, state: base, rejected: rejectedEventIDs)

            // 3–4: everything else, in mainline order of the power levels just resolved.
            let leftover = fullConflictedSet.subtracting(powerOrdered)
            let mainlineOrdered = graph.mainlineOrder(Array(leftover), powerLevelsID: resolved[.powerLevels])
            resolved = graph.iterativeAuthChecks(mainlineOrdered, state: resolved, rejected: rejectedEventIDs)

            // 5: what all forks agree on always stands.
            resolved.merge(split.unconflicted) { _, unconflicted in unconflicted }
            return resolved
        }
    }

    /// Events that may take power away: power levels, join rules, the create event, and
    /// kicks and bans (a leave or ban sent by someone other than its target).
    static func isPowerEvent(_ event: Event) -> Bool {
        switch (event.type, event.stateKey) {
        case ("m.room.power_levels", ""), ("m.room.join_rules", ""), ("m.room.create", ""):
            return true
        case ("m.room.member", let target?):
            let membership = event.membership
            return (membership == "leave" || membership == "ban") && event.sender != target
        default:
            return false
        }
    }
}
