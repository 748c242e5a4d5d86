/// State resolution: the room state after several forks of the event graph meet.
/// Pure and synchronous; the caller loads what is needed first. Version 1 needs the
/// events of the state sets; version 2 also needs their auth chains.
public enum StateResolution {
    /// Resolves state sets given as event IDs, fetching events through `event`.
    /// `rejectedEventIDs` are events rejected on receipt (failing their auth chain): they
    /// never enter the state and never authorise others. Uses the algorithm of `roomVersion`.
    public static func resolve(
        stateSets: [[StateKey: String]],
        roomVersion: RoomVersion,
        rejectedEventIDs: Set<String> = [],
        event: (String) -> Event?
    ) -> [StateKey: String] {
        switch roomVersion.stateResolution {
        case .v1: return resolveV1(stateSets: stateSets, roomVersion: roomVersion, event: event)
        case .v2: return resolveV2(stateSets: stateSets, roomVersion: roomVersion,
                                   rejectedEventIDs: rejectedEventIDs, event: event)
        }
    }

    /// `resolve` with every needed event in a map.
    public static func resolve(
        stateSets: [[StateKey: String]],
        roomVersion: RoomVersion,
        rejectedEventIDs: Set<String> = [],
        events: [String: Event]
    ) -> [StateKey: String] {
        resolve(stateSets: stateSets, roomVersion: roomVersion, rejectedEventIDs: rejectedEventIDs) { events[$0] }
    }

    /// `resolve` over full state maps; `authChainEvents` holds the auth chain events that
    /// are not already in the state maps.
    public static func resolve(
        stateMaps: [StateMap],
        authChainEvents: [String: Event],
        roomVersion: RoomVersion,
        rejectedEventIDs: Set<String> = []
    ) -> StateMap {
        var all = authChainEvents
        for map in stateMaps {
            for event in map.values { all[event.eventID] = event }
        }
        let resolved = resolve(stateSets: stateMaps.map { $0.mapValues(\.eventID) }, roomVersion: roomVersion,
                               rejectedEventIDs: rejectedEventIDs, events: all)
        return resolved.compactMapValues { all[$0] }
    }
}
