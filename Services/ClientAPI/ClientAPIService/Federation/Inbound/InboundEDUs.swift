import MatrixCore
import ServiceKit
import Storage

/// Typing notices, read receipts, to-device messages, device-list and cross-signing key changes
/// and presence of another server's users, into the same stores as local ones so /sync and
/// sliding sync show them. Only a server's own users
/// count, and typing and receipts only in rooms they are joined to; other EDU types are ignored.
extension ClientAPI {
    static let remoteTypingTimeoutMs: Int64 = 30_000

    func receiveEDUs(_ edus: [JSON], from origin: ServerName) async {
        for edu in edus {
            do {
                switch edu["edu_type"]?.stringValue {
                case "m.typing": try await receiveTyping(edu["content"] ?? [:], from: origin)
                case "m.receipt": try await receiveReceipts(edu["content"] ?? [:], from: origin)
                case "m.direct_to_device": try await receiveDirectToDevice(edu["content"] ?? [:], from: origin)
                case "m.device_list_update": try await receiveDeviceListUpdate(edu["content"] ?? [:], from: origin)
                case "m.signing_key_update": try await receiveSigningKeyUpdate(edu["content"] ?? [:], from: origin)
                case "m.presence": try await receivePresence(edu["content"] ?? [:], from: origin)
                default: continue
                }
            } catch {
                logger.info("EDU from \(origin.rawValue) not taken: \(error)")
            }
        }
    }

    private func ownJoinedUser(_ raw: String?, room: String, of origin: ServerName) async throws -> String? {
        guard let raw, UserID(raw)?.server == origin else { return nil }
        guard try await rooms.membership(room, raw)?.membership == "join" else { return nil }
        return raw
    }

    private func receiveTyping(_ content: JSON, from origin: ServerName) async throws {
        guard let room = content["room_id"]?.stringValue, let typing = content["typing"]?.boolValue,
              let user = try await ownJoinedUser(content["user_id"]?.stringValue, room: room, of: origin) else { return }
        let timeout = Self.remoteTypingTimeoutMs
        let pos = try await userData.setTyping(roomID: room, userID: user, timeoutMs: typing ? timeout : nil)
        announce(StreamNotice(pos: pos, rooms: [room]))
        if typing { scheduleTypingExpiry(roomID: room, userID: user, afterMs: timeout, setAt: pos) }
    }

    private func receiveReceipts(_ content: JSON, from origin: ServerName) async throws {
        for (room, byType) in content.objectValue ?? [:] {
            for (user, receipt) in byType["m.read"]?.objectValue ?? [:] {
                guard let user = try await ownJoinedUser(user, room: room, of: origin),
                      let eventID = receipt["event_ids"]?[0]?.stringValue,
                      let event = try await events.event(eventID), event.event.roomID == room else { continue }
                let thread = receipt["data"]?["thread_id"]?.stringValue ?? ""
                let pos = try await userData.setReceipt(roomID: room, type: "m.read", userID: user,
                                                        threadID: thread, eventID: eventID)
                announce(StreamNotice(pos: pos, rooms: [room]))
            }
        }
    }
}
