import MatrixCore
import Storage

/// `required_state` selectors resolved for one room: `$ME` becomes the user, `$LAZY` the
/// senders of the timeline being returned.
struct RequiredStateMatcher: Sendable {
    var everything = false
    var anyKeyTypes: Set<String> = []
    var anyTypeKeys: Set<String> = []
    var pairs: Set<StateSelector> = []

    init(_ selectors: Set<StateSelector>, me: String, lazyMembers: Set<String>) {
        for s in selectors {
            let keys: [String]
            switch s.stateKey {
            case "$ME": keys = [me]
            case "$LAZY": keys = s.type == "m.room.member" ? Array(lazyMembers) : []
            default: keys = [s.stateKey]
            }
            for k in keys {
                switch (s.type, k) {
                case ("*", "*"): everything = true
                case ("*", _): anyTypeKeys.insert(k)
                case (_, "*"): anyKeyTypes.insert(s.type)
                default: pairs.insert(StateSelector(type: s.type, stateKey: k))
                }
            }
        }
    }

    var isEmpty: Bool { !everything && anyKeyTypes.isEmpty && anyTypeKeys.isEmpty && pairs.isEmpty }

    /// A type wildcard cannot be answered by an indexed lookup.
    var needsWholeState: Bool { everything || !anyTypeKeys.isEmpty }

    func matches(_ e: Event) -> Bool {
        guard let k = e.stateKey else { return false }
        return everything || anyKeyTypes.contains(e.type) || anyTypeKeys.contains(k) || pairs.contains(StateSelector(type: e.type, stateKey: k))
    }

    /// Current state matching the selectors (all of it, or only what changed after `changedAfter`).
    func currentState(_ store: EventStore, roomID: String, changedAfter: Int64 = -1) async throws -> [StoredEvent] {
        if isEmpty { return [] }
        if needsWholeState {
            let all = changedAfter >= 0 ? try await store.currentStateChanges(roomID, after: changedAfter) : try await store.currentState(roomID)
            return all.filter { matches($0.event) }
        }
        return try await store.currentState(roomID, pairs: pairs.map { ($0.type, $0.stateKey) }, anyKeyTypes: Array(anyKeyTypes),
                                            changedAfter: changedAfter)
    }
}
