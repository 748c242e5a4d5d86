import MatrixCore
import ServiceKit
import Storage

/// `m.signing_key_update` for a local user whose master or self-signing key changed, handed
/// to the federation sender (which sends it to every server sharing a room with the user),
/// so those servers replace the keys they cached and tell their users.
extension ClientAPI {
    func publishSigningKeyUpdate(_ userID: String) async {
        do {
            let keys = try await localKeys([userID: []], viewer: nil)
            var content: [String: JSON] = ["user_id": .string(userID)]
            if let m = keys.master[userID] { content["master_key"] = m }
            if let s = keys.selfSigning[userID] { content["self_signing_key"] = s }
            guard content.count > 1 else { return }
            publisher.publishEDU(["kind": "signing_key", "user_id": userID, "content": JSON.object(content).canonicalString])
        } catch {
            logger.warning("signing key update of \(userID) not sent: \(error)")
        }
    }
}
