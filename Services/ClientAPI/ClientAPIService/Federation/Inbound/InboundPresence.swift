import MatrixCore
import ServiceKit
import Storage

/// `m.presence` EDUs: the origin's users' presence, kept like local users' presence for
/// users who share a room with a local user, so their /sync shows it.
extension ClientAPI {
    func receivePresence(_ content: JSON, from origin: ServerName) async throws {
        for update in content["push"]?.arrayValue ?? [] {
            guard let user = update["user_id"]?.stringValue, UserID(user)?.server == origin,
                  let state = update["presence"]?.stringValue, Self.presenceStates.contains(state) else { continue }
            let rooms = try await self.rooms.joinedRooms(user)
            guard !rooms.isEmpty else { continue }
            let ago = max(0, update["last_active_ago"]?.intValue ?? 0)
            let pos = try await PresenceStore(db: db).setRemote(user, presence: state, statusMsg: update["status_msg"]?.stringValue,
                                                                lastActiveTS: nowMillis() - ago)
            announce(StreamNotice(pos: pos, rooms: rooms, users: [user]))
        }
    }
}
