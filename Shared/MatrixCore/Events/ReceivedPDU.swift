/// A PDU as another server sent it: the format checks of the spec's "Checks performed on
/// receipt of a PDU" (step 1), the event ID it has in its room version, and the servers
/// whose signatures it needs (step 2 is done by the caller, which has the keys).
public enum ReceivedPDU {
    /// Limits from the room version event formats.
    public static let maxBytes = 65_536
    public static let maxPrevEvents = 20
    public static let maxAuthEvents = 10

    /// The event with its ID, or why it is not a valid PDU of `version`. Our own local
    /// `unsigned` data has no place in it and is dropped.
    public static func parse(_ json: JSON, version: RoomVersion) throws(PDUFormatError) -> Event {
        guard case .object(var o) = json else { throw .invalid("a PDU must be a JSON object") }
        o["unsigned"] = nil
        let pdu = JSON.object(o)
        guard pdu.canonicalBytes.count <= maxBytes else { throw .invalid("the PDU is larger than \(maxBytes) bytes") }
        if version.strictCanonicalJSON, !pdu.isStrictCanonical { throw .invalid("the PDU has values outside canonical JSON") }
        guard let type = o["type"]?.stringValue, type.utf8.count <= 255 else { throw .invalid("type must be a string of at most 255 bytes") }
        guard let sender = o["sender"]?.stringValue, UserID(sender) != nil else { throw .invalid("sender must be a user ID") }
        if let sk = o["state_key"], sk.stringValue == nil || sk.stringValue!.utf8.count > 255 {
            throw .invalid("state_key must be a string of at most 255 bytes")
        }
        guard o["content"]?.objectValue != nil else { throw .invalid("content must be an object") }
        guard let depth = o["depth"]?.intValue, depth >= 0 else { throw .invalid("depth must be a non-negative integer") }
        _ = depth
        guard o["origin_server_ts"]?.intValue != nil else { throw .invalid("origin_server_ts must be an integer") }
        guard o["hashes"]?["sha256"]?.stringValue != nil else { throw .invalid("hashes.sha256 is missing") }
        guard o["signatures"]?.objectValue != nil else { throw .invalid("signatures is missing") }
        let isV12Create = version.roomIDFromCreateEvent && type == "m.room.create"
        if isV12Create {
            guard o["room_id"] == nil else { throw .invalid("a version \(version.id) create event has no room_id") }
        } else {
            guard let r = o["room_id"]?.stringValue, RoomID(r) != nil else { throw .invalid("room_id must be a room ID") }
        }
        try checkReferences(o["prev_events"], version: version, max: maxPrevEvents, name: "prev_events")
        try checkReferences(o["auth_events"], version: version, max: maxAuthEvents, name: "auth_events")
        guard let id = pdu.eventID(for: version) else { throw .invalid("the PDU has no valid event ID") }
        if version.eventIDFormat != .v1, o["event_id"] != nil {
            // Older servers send the ID along; it must be the one the hash gives.
            guard o["event_id"]?.stringValue == id.rawValue else { throw .invalid("event_id does not match the event's hash") }
            o["event_id"] = nil
            return Event(eventID: id.rawValue, json: .object(o))
        }
        return Event(eventID: id.rawValue, json: pdu)
    }

    private static func checkReferences(_ v: JSON?, version: RoomVersion, max: Int, name: String) throws(PDUFormatError) {
        guard let list = v?.arrayValue else { throw .invalid("\(name) must be a list") }
        guard list.count <= max else { throw .invalid("\(name) has more than \(max) entries") }
        for item in list {
            let id: String?
            if version.eventIDFormat == .v1 {
                guard let pair = item.arrayValue, pair.count == 2, pair[1].objectValue != nil else {
                    throw .invalid("\(name) entries must be [event ID, hashes] pairs")
                }
                id = pair[0].stringValue
            } else {
                id = item.stringValue
            }
            guard let id, let parsed = EventID(id), parsed.hasFormat(version.eventIDFormat) else {
                throw .invalid("\(name) holds an event ID of the wrong format")
            }
        }
    }

    /// The servers that must have signed the event (server-server spec, "Validating hashes
    /// and signatures on received events"): the sender's; in room versions 1–2 also the
    /// event ID's; for a restricted join, the authorising user's server.
    public static func requiredSigners(_ event: Event, version: RoomVersion) -> [String] {
        var servers: [String] = []
        func add(_ s: String?) { if let s, !servers.contains(s) { servers.append(s) } }
        add(UserID(event.sender)?.server.rawValue)
        if version.eventIDFormat == .v1 { add(EventID(event.eventID)?.server?.rawValue) }
        if version.restrictedJoinRuleSupported, event.type == "m.room.member", event.membership == "join",
           let via = event.content["join_authorised_via_users_server"]?.stringValue {
            add(UserID(via)?.server.rawValue)
        }
        return servers
    }
}

public enum PDUFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let m): return m }
    }
}
