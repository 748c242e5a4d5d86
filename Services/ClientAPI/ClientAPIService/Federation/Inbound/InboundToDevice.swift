import MatrixCore
import ServiceKit
import Storage

/// `m.direct_to_device` EDUs: another server's user sending to local devices. Stored in the
/// same inbox as local messages, once per origin and message ID, and their syncs woken.
extension ClientAPI {
    func receiveDirectToDevice(_ content: JSON, from origin: ServerName) async throws {
        guard let sender = content["sender"]?.stringValue, UserID(sender)?.server == origin,
              let type = content["type"]?.stringValue, !type.isEmpty,
              let messageID = content["message_id"]?.stringValue, !messageID.isEmpty,
              let messages = content["messages"]?.objectValue else { return }
        var out: [ToDeviceStore.Message] = []
        for (userID, devices) in messages {
            guard UserID(userID)?.server == serverName, let devices = devices.objectValue else { continue }
            let known = Set(try await accounts.devices(userID).map(\.deviceID))
            for (device, body) in devices where body.objectValue != nil {
                let targets = device == "*" ? Array(known) : (known.contains(device) ? [device] : [])
                for d in targets { out.append(.init(userID: userID, deviceID: d, content: body.canonicalString)) }
            }
        }
        let stored = try await ToDeviceStore(db: db).receive(origin: origin.rawValue, messageID: messageID, sender: sender,
                                                             type: type, messages: out)
        if let pos = stored.head { announce(StreamNotice(pos: pos, users: Array(Set(out.map(\.userID))))) }
    }
}
