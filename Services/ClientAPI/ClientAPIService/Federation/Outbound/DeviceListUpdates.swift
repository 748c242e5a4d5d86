import MatrixCore
import ServiceKit
import Storage

/// `m.device_list_update` for a local user's changed devices, one per device, handed to the
/// federation sender (which sends it to every server sharing a room with the user).
/// `prev_id` is the user's previous change, so a server that missed one refetches the list.
extension ClientAPI {
    func publishDeviceListUpdates(_ userID: String, devices: [String], deleted: Bool, at pos: Int64) async {
        do {
            let prev = try await keyStore.deviceListPosition(userID, before: pos)
            let keys = deleted ? [:] : (try await localKeys([userID: devices], viewer: nil).devices[userID]?.objectValue ?? [:])
            let names = deleted ? [:] : Dictionary(try await accounts.devices(userID).map { ($0.deviceID, $0.displayName) }) { a, _ in a }
            for device in devices {
                var content: [String: JSON] = [
                    "user_id": .string(userID), "device_id": .string(device), "stream_id": .int(pos),
                    "prev_id": prev > 0 ? [.int(prev)] : [], "deleted": .bool(deleted),
                ]
                if let k = keys[device] { content["keys"] = k }
                if let name = names[device] ?? nil { content["device_display_name"] = .string(name) }
                publisher.publishEDU(["kind": "device_list", "user_id": userID, "content": JSON.object(content).canonicalString])
            }
        } catch {
            logger.warning("device list update of \(userID) not sent: \(error)")
        }
    }
}
