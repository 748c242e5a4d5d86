extension StateResolution {
    /// State sets split into what they agree on and what they do not.
    struct StateSplit {
        var unconflicted: [StateKey: String] = [:]
        var conflicted: [StateKey: Set<String>] = [:]

        /// Version 2: a key is unconflicted only if every set has it with the same event.
        static func v2(_ stateSets: [[StateKey: String]]) -> StateSplit {
            var split = StateSplit()
            let keys = Set(stateSets.flatMap(\.keys))
            for key in keys {
                let values = stateSets.map { $0[key] }
                let present = Set(values.compactMap { $0 })
                if present.count == 1, !values.contains(nil) {
                    split.unconflicted[key] = present.first
                } else {
                    split.conflicted[key] = present
                }
            }
            return split
        }

        /// Version 1: a key is conflicted only if two sets give different events for it;
        /// a key some sets lack is not a conflict.
        static func v1(_ stateSets: [[StateKey: String]]) -> StateSplit {
            var split = StateSplit()
            var values: [StateKey: Set<String>] = [:]
            for set in stateSets {
                for (key, id) in set { values[key, default: []].insert(id) }
            }
            for (key, ids) in values {
                if ids.count == 1 { split.unconflicted[key] = ids.first } else { split.conflicted[key] = ids }
            }
            return split
        }
    }
}
