extension StateResolution.EventGraph {
    /// The auth difference: events in the auth chain of some state sets but not all.
    /// Chains here include the state events themselves, which changes nothing: a state
    /// event missing from another set's chain is conflicted anyway.
    func authDifference(_ stateSets: [[StateKey: String]]) -> Set<String> {
        let chains = stateSets.map { authClosure(of: $0.values) }
        guard var union = chains.first else { return [] }
        var intersection = union
        for chain in chains.dropFirst() {
            union.formUnion(chain)
            intersection.formIntersection(chain)
        }
        return union.subtracting(intersection)
    }

    /// Version 12's conflicted state subgraph: every event on an auth path from one
    /// conflicted event to another (endpoints included).
    func conflictedSubgraph(_ conflicted: Set<String>) -> Set<String> {
        // Walk down from the conflicted events, remembering who cites whom...
        var citedBy: [String: [String]] = [:]
        var reached = conflicted
        var stack = Array(conflicted)
        while let id = stack.popLast() {
            guard let event = event(id) else { continue }
            for authID in authEventIDs(of: event) {
                citedBy[authID, default: []].append(id)
                if reached.insert(authID).inserted { stack.append(authID) }
            }
        }
        // ...then climb back from the conflicted events: what leads down to one lies on a path.
        var onPath = conflicted
        stack = Array(conflicted)
        while let id = stack.popLast() {
            for citing in citedBy[id] ?? [] where onPath.insert(citing).inserted {
                stack.append(citing)
            }
        }
        return onPath
    }
}
