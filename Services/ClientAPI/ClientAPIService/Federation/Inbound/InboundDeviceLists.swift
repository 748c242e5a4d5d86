import FederationClient
import MatrixCore
import ServiceKit
import Storage

/// `m.device_list_update` EDUs: one of the origin's users changed a device. Device keys are
/// not kept (they are always fetched from the user's server); the user's device list is
/// marked changed, so local users sharing a room see it in `device_lists.changed` and
/// refetch, and their syncs wake. An update whose `prev_id` is not the last one taken in
/// means some were missed: the list is fetched again (`GET /user/devices`) for its
/// `stream_id` and cross-signing keys.
extension ClientAPI {
    func receiveDeviceListUpdate(_ content: JSON, from origin: ServerName) async throws {
        guard let user = content["user_id"]?.stringValue, UserID(user)?.server == origin else { return }
        let locals = try await keyStore.usersSharingRoom(with: user).filter(isLocalUser)
        guard !locals.isEmpty else { return }
        let pos = try await keyStore.recordRemoteDeviceListChange(user)
        announce(StreamNotice(pos: pos, users: locals))

        let lists = RemoteDeviceListStore(db: db)
        let prev = (content["prev_id"]?.arrayValue ?? []).compactMap(\.intValue)
        let last = try await lists.streamID(user)
        if prev.isEmpty || prev.contains(where: { $0 == last }) {
            if let id = content["stream_id"]?.intValue { try await lists.setStreamID(user, id) }
            return
        }
        // Off the transaction's path: the sender is waiting for our answer.
        Task { [self] in await resyncDeviceList(user, of: origin, notify: locals) }
    }

    /// Fetches a remote user's device list from their server, taking its `stream_id` and
    /// cross-signing keys.
    func resyncDeviceList(_ user: String, of server: ServerName, notify locals: [String]) async {
        do {
            let answer = try await federation.get(server, FederationPath.target("/_matrix/federation/v1/user/devices", [user]),
                                                  timeout: .seconds(30))
            guard answer["user_id"]?.stringValue == user else { return }
            if let pos = try await storeRemoteCrossSigningKeys(user, master: answer["master_key"],
                                                               selfSigning: answer["self_signing_key"]) {
                announce(StreamNotice(pos: pos, users: locals))
            }
            // Last: the position says the resync is done.
            if let id = answer["stream_id"]?.intValue { try await RemoteDeviceListStore(db: db).setStreamID(user, id) }
        } catch {
            logger.info("device list of \(user) not resynced: \(error)")
        }
    }
}
