/// Turns an event this server authors into a finished PDU: hashes, signature and event ID.
public struct EventBuilder: Sendable {
    public let roomVersion: RoomVersion
    public let serverName: ServerName
    public let signingKey: SigningKey

    public init(roomVersion: RoomVersion, serverName: ServerName, signingKey: SigningKey) {
        self.roomVersion = roomVersion
        self.serverName = serverName
        self.signingKey = signingKey
    }

    public func finalize(_ json: JSON) throws(EventBuildError) -> Event {
        try finalizeEvent(json, roomVersion: roomVersion, serverName: serverName, signingKey: signingKey)
    }
}

/// Finishes an event authored by `serverName`. Any `hashes` and `signatures` in `json` are
/// replaced. Room versions 1–2 get an `event_id` field (a generated one unless the JSON
/// already has one); later versions must not have one and get their ID from the reference
/// hash. A room version 12 create event must not carry `room_id`: its room ID is
/// `RoomID(createEventID:)` of the returned event's ID.
public func finalizeEvent(_ json: JSON, roomVersion: RoomVersion, serverName: ServerName,
                          signingKey: SigningKey) throws(EventBuildError) -> Event {
    guard case .object(var event) = json else { throw .notAnObject }
    event["hashes"] = nil
    event["signatures"] = nil

    if roomVersion.roomIDFromCreateEvent, event["type"]?.stringValue == "m.room.create", event["room_id"] != nil {
        throw .createEventHasRoomID
    }
    if roomVersion.eventIDFormat == .v1 {
        if event["event_id"]?.stringValue == nil {
            event["event_id"] = .string(EventID.generate(server: serverName).rawValue)
        }
    } else {
        // A hash-derived ID cannot be part of what it hashes.
        event["event_id"] = nil
    }
    if roomVersion.strictCanonicalJSON, !JSON.object(event).isStrictCanonical {
        throw .notCanonicalJSON
    }

    let signed: JSON, referenceHash: [UInt8]
    do {
        (signed, referenceHash) = try JSON.object(event).hashedSignedAndHashed(for: roomVersion, server: serverName.rawValue,
                                                                              key: signingKey)
    } catch {
        // Hashing and signing fail only for non-objects, excluded above.
        throw .notAnObject
    }
    let id = roomVersion.eventIDFormat == .v1 ? signed.eventID(for: roomVersion)
        : EventID.fromReferenceHash(referenceHash, format: roomVersion.eventIDFormat)
    guard let eventID = id else { throw .invalidEventID }
    return Event(eventID: eventID.rawValue, json: signed)
}

public enum EventBuildError: Error, Sendable, Equatable {
    case notAnObject
    /// Room version 6+ allows only integers in the canonical range: no floats.
    case notCanonicalJSON
    /// Room version 12 create events define the room ID and so cannot contain one.
    case createEventHasRoomID
    /// A v1/v2 `event_id` given in the JSON is not a valid event ID.
    case invalidEventID
}
