import Foundation
import MatrixCore
import ServiceKit
import Storage

/// Simplified sliding sync (MSC4186) in the unstable shape Element X sends: `pos`, `timeout`
/// and `set_presence` in the query, everything else in the body.
extension ClientAPI {
    /// Connections unused for longer start over (the client gets M_UNKNOWN_POS).
    static let slidingSyncExpiryMs: Int64 = 30 * 24 * 3600 * 1000

    func slidingSyncRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/unstable/org.matrix.simplified_msc3575/sync") { [self] req in try await slidingSync(req) }
        return t
    }

    private func slidingSync(_ req: MatrixRequest) async throws -> MatrixResponse {
        let user = req.user
        let request = try SlidingSyncRequest(try req.jsonBody())
        let timeout = min(max(try req.queryInt("timeout") ?? 0, 0), 120_000)
        let store = SlidingSyncStore(db: db)

        // A request without pos starts the connection over: its first response is built on
        // nothing and stored together with the new connection.
        let position: SlidingSyncPosition?
        let from: Int64?
        var sent: [String: SlidingSyncRoomRecord] = [:]
        if let raw = req.queryValue("pos") {
            let pos = try SlidingSyncPos.parse(raw)
            // Positions belong to one user, device and conn_id.
            guard let p = try await store.resume(userID: user.userID, deviceID: user.deviceID, connID: request.connID,
                                                 connKey: pos.connKey, seq: pos.seq, expiryMs: Self.slidingSyncExpiryMs) else {
                throw SlidingSyncPos.unknown()
            }
            position = p
            from = pos.stream
            sent = try await store.rooms(connKey: p.connKey, asOf: p.seq)
        } else {
            position = nil
            from = nil
        }
        let previousCounts = position?.listCounts ?? "{}"

        let deadline = Date().addingTimeInterval(Double(timeout) / 1000)
        while true {
            // The room list and the settings that filter it, side by side.
            async let settingsRead = slidingSyncSettings(user.userID)
            let list = try await rooms.roomList(of: user.userID)
            let settings = try await settingsRead
            let head = max(list.head, from ?? 0)
            let built = try await buildSlidingSync(request, user: user, from: from, upTo: head,
                                                   memberships: list.memberships, activity: list.activity, settings: settings,
                                                   sent: sent, previousCounts: previousCounts)
            let remaining = Int(deadline.timeIntervalSinceNow * 1000)
            let draining = await notifier.draining
            if from == nil || built.hasNews || remaining <= 0 || Task.isCancelled || draining {
                // The rooms' events are formatted while the connection's state is stored.
                async let roomsJSON = built.page.rooms(self)
                let next: SlidingSyncPosition
                if let position {
                    // Nothing the connection must remember: the same position carries on.
                    var seq = position.seq
                    if !built.records.isEmpty || built.listCounts != position.listCounts {
                        guard let s = try await store.commit(connKey: position.connKey, parent: position.seq, rooms: built.records,
                                                             listCounts: built.listCounts) else {
                            throw SlidingSyncPos.unknown()
                        }
                        seq = s
                    }
                    next = SlidingSyncPosition(connKey: position.connKey, seq: seq, listCounts: built.listCounts)
                } else {
                    next = try await store.open(userID: user.userID, deviceID: user.deviceID, connID: request.connID,
                                                rooms: built.records, listCounts: built.listCounts, expiryMs: Self.slidingSyncExpiryMs)
                }
                var body = built.body
                body["rooms"] = .object(try await roomsJSON)
                body["pos"] = .string(SlidingSyncPos(connKey: next.connKey, seq: next.seq, stream: head).token)
                return .json(.object(body))
            }
            _ = await notifier.wait(user: user.userID, rooms: built.watchRooms, after: head, timeoutMs: remaining)
        }
    }
}
