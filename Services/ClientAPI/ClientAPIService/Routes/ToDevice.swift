import MatrixCore
import ServiceKit
import Storage

/// PUT /sendToDevice: messages to local users' devices (`*` means all of a user's devices).
extension ClientAPI {
    func toDeviceRoutes() -> RouteTable {
        var t = RouteTable()
        t.put("/_matrix/client/v3/sendToDevice/:eventType/:txnId") { [self] req in
            let body = try req.jsonBody()
            guard let messages = try body.object("messages") else { throw MatrixError.badJSON("messages is required") }
            var out: [ToDeviceStore.Message] = []
            for (userID, devices) in messages {
                guard let uid = UserID(userID) else { throw MatrixError.invalidParam("Invalid user ID \(userID)") }
                guard let devices = devices.objectValue else { throw MatrixError.badJSON("messages.\(userID) must be an object") }
                // Remote users are served by federation, which is not part of this service yet.
                guard uid.server.rawValue == serverName.rawValue else { continue }
                for (device, content) in devices {
                    guard content.objectValue != nil else { throw MatrixError.badJSON("message content must be an object") }
                    let targets = device == "*" ? try await accounts.devices(userID).map(\.deviceID) : [device]
                    for d in targets { out.append(.init(userID: userID, deviceID: d, content: content.canonicalString)) }
                }
            }
            let store = ToDeviceStore(db: db)
            if let pos = try await store.send(sender: req.user.userID, senderDevice: req.user.deviceID, txnID: try req.param("txnId"),
                                              type: try req.param("eventType"), messages: out) {
                announce(StreamNotice(pos: pos, users: Array(Set(out.map(\.userID)))))
            }
            return .empty
        }
        return t
    }
}
