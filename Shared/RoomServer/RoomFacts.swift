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

    public init(state: StateMap, version: RoomVersion) {
        powerLevels = PowerLevels(state: state, roomVersion: version)
        powerLevelsEventID = state[.powerLevels]?.eventID
        createEventID = state[.create]?.eventID
        joined = Self.joined(in: state)
    }

    static func joined(in state: StateMap) -> [String] {
        state.compactMap { key, e in key.type == "m.room.member" && e.membership == "join" ? key.stateKey : nil }
    }

    /// The parsed power levels, when they are the ones of these auth events.
    public func powerLevels(for authEvents: StateMap) -> PowerLevels? {
        guard authEvents[.powerLevels]?.eventID == powerLevelsEventID, authEvents[.create]?.eventID == createEventID else {
            return nil
        }
        return powerLevels
    }
}
