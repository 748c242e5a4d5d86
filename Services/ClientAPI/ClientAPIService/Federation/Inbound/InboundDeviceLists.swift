import MatrixCore
import ServiceKit
import Storage

/// `m.device_list_update` EDUs: one of the origin's users changed a device. Nothing of the
/// device is kept (keys are always fetched from the user's server); the user's device list
/// is marked changed, so local users sharing a room see it in `device_lists.changed` and
/// refetch, and their syncs wake.
extension ClientAPI {
    func receiveDeviceListUpdate(_ content: JSON, from origin: ServerName) async throws {
        guard let user = content["user_id"]?.stringValue, UserID(user)?.server == origin else { return }
        let locals = try await keyStore.usersSharingRoom(with: user).filter(isLocalUser)
        guard !locals.isEmpty else { return }
        let pos = try await keyStore.recordRemoteDeviceListChange(user)
        announce(StreamNotice(pos: pos, users: locals))
    }
}
