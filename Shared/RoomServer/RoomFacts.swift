import MatrixCore

/// What a room's state says that every event built or notified on it reads: parsed once per
/// state rather than once per event. A run of messages leaves the state as it is, so one
/// value serves them all; the room actor drops it whenever its state changes.
public final class RoomFacts: Sendable {
    public let powerLevels: PowerLevels
    /// The events `powerLevels` was read from (nil where the room has none).
    public let powerLevelsEventID: String?
    public let createEventID: String?
    /// State keys of the joined members, in no particular order.
    public let joined: [String]
    /// The display names joined members set (push rules match them against each message).
    public let displayNames: [String: String]

    public init(state: StateMap, version: RoomVersion) {
        powerLevels = PowerLevels(state: state, roomVersion: version)
        powerLevelsEventID = state[.powerLevels]?.eventID
        createEventID = state[.create]?.eventID
        var joined: [String] = [], names: [String: String] = [:]
        for (key, e) in state where key.type == "m.room.member" && e.membership == "join" {
            joined.append(key.stateKey)
            if let name = Self.displayName(e) { names[key.stateKey] = name }
        }
        (self.joined, self.displayNames) = (joined, names)
    }

    static func joined(in state: StateMap) -> [String] {
        state.compactMap { key, e in key.type == "m.room.member" && e.membership == "join" ? key.stateKey : nil }
    }

    static func displayName(_ member: Event?) -> String? { member?.content["displayname"]?.stringValue }

    /// The parsed power levels, when they are the ones of these auth events.
    public func powerLevels(for authEvents: StateMap) -> PowerLevels? {
        guard authEvents[.powerLevels]?.eventID == powerLevelsEventID, authEvents[.create]?.eventID == createEventID else {
            return nil
        }
        return powerLevels
    }
}
