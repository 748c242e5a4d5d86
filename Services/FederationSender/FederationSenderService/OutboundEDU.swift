import Bus
import MatrixCore

/// Turns the client API's ephemeral stream entries (`myelin:edus`) into federation EDUs.
enum OutboundEDU {
    /// Not an EDU: a client-api process heard from `destination`, so it is up again
    /// (published by the client API's `BusBridge.publishPeerUp`).
    static let peerUpKind = "peer_up"

    /// A send-to-device batch for one server: its destination and the `m.direct_to_device`
    /// EDU; nil for entries of other kinds or that do not parse.
    static func direct(_ entry: StreamEntry) -> (destination: String, edu: JSON)? {
        guard entry["kind"] == "to_device", let sender = entry["user_id"], let destination = entry["destination"],
              let type = entry["type"], let id = entry["message_id"],
              let messages = entry["messages"].flatMap({ try? JSON.parse($0) }), messages.objectValue != nil else { return nil }
        return (destination, ["edu_type": "m.direct_to_device",
                              "content": ["sender": .string(sender), "type": .string(type), "message_id": .string(id),
                                          "messages": messages]])
    }

    /// The EDU type of each entry kind about one local user as a whole, sent to every server
    /// sharing a room with them: device changes, cross-signing key changes, presence.
    static let userWideTypes = ["device_list": "m.device_list_update", "signing_key": "m.signing_key_update",
                                "presence": "m.presence"]

    /// A local user's device, cross-signing or presence change: the user and the EDU, for
    /// every server sharing a room with them.
    static func userWide(_ entry: StreamEntry) -> (userID: String, edu: JSON)? {
        guard let kind = entry["kind"], let type = userWideTypes[kind], let user = entry["user_id"],
              let content = entry["content"].flatMap({ try? JSON.parse($0) }) else { return nil }
        // Presence carries its user inside each pushed entry; the others name it at the top.
        let owner = kind == "presence" ? content["push"]?[0]?["user_id"]?.stringValue : content["user_id"]?.stringValue
        guard owner == user else { return nil }
        return (user, ["edu_type": .string(type), "content": content])
    }

    /// The room the EDU concerns and the EDU itself; nil for entries of unknown kinds.
    static func make(_ entry: StreamEntry) -> (roomID: String, edu: JSON)? {
        guard let room = entry["room_id"], let user = entry["user_id"] else { return nil }
        switch entry["kind"] {
        case "typing":
            return (room, ["edu_type": "m.typing",
                           "content": ["room_id": .string(room), "user_id": .string(user), "typing": .bool(entry["typing"] == "1")]])
        case "receipt":
            guard let event = entry["event_id"] else { return nil }
            var data: [String: JSON] = ["ts": .int(entry["ts"].flatMap { Int64($0) } ?? 0)]
            if let thread = entry["thread_id"], !thread.isEmpty { data["thread_id"] = .string(thread) }
            let receipt: JSON = ["event_ids": [.string(event)], "data": .object(data)]
            return (room, ["edu_type": "m.receipt", "content": .object([room: ["m.read": .object([user: receipt])]])])
        default:
            return nil
        }
    }
}
