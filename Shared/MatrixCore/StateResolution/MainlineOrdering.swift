extension StateResolution.EventGraph {
    /// Orders events by where their power levels chain meets the mainline of
    /// `powerLevelsID` (events based on older power levels first), then by
    /// `origin_server_ts`, then by event ID.
    func mainlineOrder(_ ids: [String], powerLevelsID: String?) -> [String] {
        // The mainline: P0 = the resolved power levels, each next one cited by the last.
        var mainlinePosition: [String: Int] = [:]
        var current = powerLevelsID
        while let id = current, mainlinePosition[id] == nil, let event = event(id) {
            mainlinePosition[id] = mainlinePosition.count
            current = authEvent(of: event, key: .powerLevels)?.eventID
        }

        // A power levels event's position is that of the first mainline event on its
        // chain; memoised, as most events share a few power levels events.
        var memo: [String: Int] = [:]
        func position(ofPowerLevels start: String) -> Int {
            var walked: [String] = []
            var cursor: String? = start
            var found = Int.max
            while let id = cursor {
                if let p = mainlinePosition[id] ?? memo[id] { found = p; break }
                walked.append(id)
                cursor = event(id).flatMap { authEvent(of: $0, key: .powerLevels)?.eventID }
            }
            for id in walked { memo[id] = found }
            return found
        }

        let keyed = ids.map { id -> (id: String, position: Int, ts: Int64) in
            let event = event(id)
            let cited = event.flatMap { authEvent(of: $0, key: .powerLevels)?.eventID }
            return (id, cited.map(position(ofPowerLevels:)) ?? Int.max, event?.originServerTS ?? 0)
        }
        return keyed.sorted { x, y in
            if x.position != y.position { return x.position > y.position }
            if x.ts != y.ts { return x.ts < y.ts }
            return eventIDPrecedes(x.id, y.id)
        }.map(\.id)
    }
}
