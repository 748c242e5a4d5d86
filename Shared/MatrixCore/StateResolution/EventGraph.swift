extension StateResolution {
    /// The auth event graph as state resolution walks it, over the caller's event lookup.
    /// Events the lookup does not have are treated as absent.
    struct EventGraph {
        let fetch: (String) -> Event?
        let roomVersion: RoomVersion

        func event(_ id: String) -> Event? { fetch(id) }

        /// An event's auth events. From version 12 the create event is not listed but is
        /// implied by the room ID, so it is added: every walk must still reach it.
        func authEventIDs(of event: Event) -> [String] {
            var ids = event.authEventIDs
            if roomVersion.roomIDFromCreateEvent, event.type != "m.room.create", event.roomID.hasPrefix("!") {
                let createID = "$" + event.roomID.dropFirst()
                if !ids.contains(createID) { ids.append(createID) }
            }
            return ids
        }

        /// The events and everything reachable from them through auth events.
        func authClosure(of ids: some Sequence<String>) -> Set<String> {
            var seen = Set(ids)
            var stack = Array(seen)
            while let id = stack.popLast() {
                guard let event = event(id) else { continue }
                for authID in authEventIDs(of: event) where seen.insert(authID).inserted {
                    stack.append(authID)
                }
            }
            return seen
        }

        /// The `(type, state_key)` auth event of an event, such as its power levels.
        func authEvent(of event: Event, key: StateKey) -> Event? {
            for id in authEventIDs(of: event) {
                if let auth = self.event(id), auth.stateTuple == key { return auth }
            }
            return nil
        }

        /// The sender's power according to the event's own auth events.
        func senderPower(of event: Event) -> PowerLevel {
            let powerLevels = PowerLevels(
                powerLevelsEvent: authEvent(of: event, key: .powerLevels),
                createEvent: event.type == "m.room.create" ? event : authEvent(of: event, key: .create),
                roomVersion: roomVersion)
            return powerLevels.userLevel(event.sender)
        }
    }
}
