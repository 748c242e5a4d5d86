extension StateResolution.EventGraph {
    /// Applies each event in turn to `state` if it passes the auth rules against that
    /// state, falling back to the event's own auth events for keys the state lacks.
    /// Rejected events neither enter the state nor authorise others.
    func iterativeAuthChecks(
        _ ids: [String], state initial: [StateKey: String], rejected: Set<String>
    ) -> [StateKey: String] {
        var state = initial
        for id in ids where !rejected.contains(id) {
            guard let event = event(id), let key = event.stateTuple else { continue }
            var authEvents: StateMap = [:]
            for authID in authEventIDs(of: event) where !rejected.contains(authID) {
                if let auth = self.event(authID), let authKey = auth.stateTuple { authEvents[authKey] = auth }
            }
            for authKey in AuthRules.authEventKeys(for: event, roomVersion: roomVersion) {
                if let stateID = state[authKey], !rejected.contains(stateID), let auth = self.event(stateID) {
                    authEvents[authKey] = auth
                }
            }
            do {
                try AuthRules.check(event: event, authEvents: authEvents, roomVersion: roomVersion)
                state[key] = id
            } catch {
                continue
            }
        }
        return state
    }
}
