import MatrixCore
import ServiceKit
import Storage

/// `m.presence` for a local user's new presence, handed to the federation sender (which
/// sends it to every server sharing a room with the user).
extension ClientAPI {
    func publishPresence(_ userID: String) async {
        do {
            guard isLocalUser(userID), let p = try await PresenceStore(db: db).get(userID),
                  var entry = Self.presenceContent(p).objectValue else { return }
            entry["user_id"] = .string(userID)
            let content: JSON = ["push": [.object(entry)]]
            publisher.publishEDU(["kind": "presence", "user_id": userID, "content": content.canonicalString])
        } catch {
            logger.warning("presence of \(userID) not sent: \(error)")
        }
    }
}
