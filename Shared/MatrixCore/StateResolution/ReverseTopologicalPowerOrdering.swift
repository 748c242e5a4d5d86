extension StateResolution.EventGraph {
    /// The power events and their auth ancestors within the full conflicted set, earliest
    /// first: Kahn's algorithm over auth edges, taking among ready events the one whose
    /// sender has the most power, then the earliest `origin_server_ts`, then the smallest ID.
    func reverseTopologicalPowerOrder(_ powerEvents: [String], within fullConflictedSet: Set<String>) -> [String] {
        // Edges go from an event to the auth events it cites inside the set.
        var authEdges: [String: Set<String>] = [:]
        var stack = powerEvents
        while let id = stack.popLast() {
            guard authEdges[id] == nil else { continue }
            var edges: Set<String> = []
            if let event = event(id) {
                for authID in authEventIDs(of: event) where fullConflictedSet.contains(authID) {
                    edges.insert(authID)
                    if authEdges[authID] == nil { stack.append(authID) }
                }
            }
            authEdges[id] = edges
        }

        var citedBy: [String: [String]] = [:]
        var waitingOn: [String: Int] = [:]
        var ready = StateResolution.PriorityQueue<PowerOrderKey>()
        for (id, edges) in authEdges {
            waitingOn[id] = edges.count
            for authID in edges { citedBy[authID, default: []].append(id) }
            if edges.isEmpty { ready.push(orderKey(id)) }
        }

        var ordered: [String] = []
        ordered.reserveCapacity(authEdges.count)
        while let next = ready.pop() {
            ordered.append(next.eventID)
            for citing in citedBy[next.eventID] ?? [] {
                waitingOn[citing, default: 0] -= 1
                if waitingOn[citing] == 0 { ready.push(orderKey(citing)) }
            }
        }
        return ordered
    }

    private func orderKey(_ id: String) -> PowerOrderKey {
        let event = event(id)
        return PowerOrderKey(power: event.map(senderPower) ?? .finite(0),
                             originServerTS: event?.originServerTS ?? 0, eventID: id)
    }
}

/// "x < y": x's sender has more power, or the same power and an earlier timestamp, or
/// both equal and a smaller event ID.
struct PowerOrderKey: Comparable {
    let power: PowerLevel
    let originServerTS: Int64
    let eventID: String

    static func < (x: PowerOrderKey, y: PowerOrderKey) -> Bool {
        if x.power != y.power { return x.power > y.power }
        if x.originServerTS != y.originServerTS { return x.originServerTS < y.originServerTS }
        return eventIDPrecedes(x.eventID, y.eventID)
    }
}

/// Event IDs compare by code point, which is UTF-8 byte order.
func eventIDPrecedes(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
