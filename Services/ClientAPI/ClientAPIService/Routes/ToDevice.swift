import MatrixCore
import ServiceKit
import Storage

/// PUT /sendToDevice: messages to local users' devices (`*` means all of a user's devices)
/// are stored here; those to other servers' users go out as one `m.direct_to_device` EDU
/// per server, through the federation sender.
extension ClientAPI {
    func toDeviceRoutes() -> RouteTable {
        var t = RouteTable()
        t.put("/_matrix/client/v3/sendToDevice/:eventType/:txnId") { [self] req in
            let body = try req.jsonBody()
            guard let messages = try body.object("messages") else { throw MatrixError.badJSON("messages is required") }
            let type = try req.param("eventType")
            var out: [ToDeviceStore.Message] = []
            var remote: [String: [String: JSON]] = [:]
            for (userID, devices) in messages {
                guard let uid = UserID(userID) else { throw MatrixError.invalidParam("Invalid user ID \(userID)") }
                guard let devices = devices.objectValue else { throw MatrixError.badJSON("messages.\(userID) must be an object") }
                guard devices.values.allSatisfy({ $0.objectValue != nil }) else {
                    throw MatrixError.badJSON("message content must be an object")
                }
                guard uid.server.rawValue == serverName.rawValue else {
                    remote[uid.server.rawValue, default: [:]][userID] = .object(devices)
                    continue
                }
                for (device, content) in devices {
                    let targets = device == "*" ? try await accounts.devices(userID).map(\.deviceID) : [device]
                    for d in targets { out.append(.init(userID: userID, deviceID: d, content: content.canonicalString)) }
                }
            }
            let store = ToDeviceStore(db: db)
            let sent = try await store.send(sender: req.user.userID, senderDevice: req.user.deviceID, txnID: try req.param("txnId"),
                                            type: type, messages: out)
            if let pos = sent.head { announce(StreamNotice(pos: pos, users: Array(Set(out.map(\.userID))))) }
            if sent.fresh {
                for (server, byUser) in remote {
                    publisher.publishEDU(["kind": "to_device", "user_id": req.user.userID, "destination": server, "type": type,
                                          "message_id": randomToken(bytes: 16), "messages": JSON.object(byUser).canonicalString])
                }
            }
            return .empty
        }
        return t
    }
}
