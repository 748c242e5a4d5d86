import Storage
import MatrixCore

/// Parsed and compiled rulesets of users this process has evaluated events for. Every use checks each
/// user's latest change position in storage (one small query), so a change made through any
/// process applies from the next event on, with no invalidation messages to lose.
actor PushRulesCache {
    private let store: PushRuleStore
    private var entries: [String: Entry] = [:]
    /// Past this many users the cache starts over; rulesets are cheap to reload.
    private let capacity: Int

    private struct Entry {
        let version: Int64?
        let rules: CompiledPushRules
    }

    init(store: PushRuleStore, capacity: Int = 50_000) {
        self.store = store
        self.capacity = capacity
    }

    /// The current ruleset of every user given.
    func ruleSets(for users: [String]) async throws -> [String: CompiledPushRules] {
        // Versions are read before rules: rules read later are at least that new, so an
        // entry is never newer-looking than its contents.
        let versions = try await store.versions(for: users)
        var out: [String: CompiledPushRules] = [:]
        var stale: [String] = []
        for user in users {
            if let e = entries[user], e.version == versions[user] { out[user] = e.rules } else { stale.append(user) }
        }
        guard !stale.isEmpty else { return out }
        let fresh = try await store.rules(for: stale)
        if entries.count + stale.count > capacity { entries.removeAll(keepingCapacity: true) }
        for user in stale {
            let rules = CompiledPushRules((fresh[user] ?? UserPushRules(userID: user)).ruleSet)
            entries[user] = Entry(version: versions[user], rules: rules)
            out[user] = rules
        }
        return out
    }
}
