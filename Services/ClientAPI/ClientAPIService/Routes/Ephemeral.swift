import MatrixCore
import ServiceKit
import Storage

/// Typing notifications, receipts and read markers.
extension ClientAPI {
    func ephemeralRoutes() -> RouteTable {
        var t = RouteTable()
        t.put("/_matrix/client/v3/rooms/:roomId/typing/:userId") { [self] req in
            let roomID = try req.param("roomId")
            guard try req.param("userId") == req.user.userID else { throw MatrixError.forbidden("Cannot set typing for another user") }
            try await requireJoined(roomID, req.user.userID)
            let body = try req.jsonBody()
            guard let typing = try body.bool("typing") else { throw MatrixError.badJSON("typing is required") }
            let timeout = min(try body.int("timeout") ?? 30_000, 120_000)
            let pos = try await userData.setTyping(roomID: roomID, userID: req.user.userID, timeoutMs: typing ? timeout : nil)
            announce(StreamNotice(pos: pos, rooms: [roomID]))
            publisher.publishEDU(["kind": "typing", "room_id": roomID, "user_id": req.user.userID, "typing": typing ? "1" : "0",
                                  "timeout": String(timeout)])
            if typing { scheduleTypingExpiry(roomID: roomID, userID: req.user.userID, afterMs: timeout, setAt: pos) }
            return .empty
        }
        t.post("/_matrix/client/v3/rooms/:roomId/receipt/:receiptType/:eventId") { [self] req in
            let roomID = try req.param("roomId")
            let type = try req.param("receiptType")
            guard ["m.read", "m.read.private", "m.fully_read"].contains(type) else { throw MatrixError.invalidParam("Unknown receipt type") }
            let thread = try req.jsonBody().string("thread_id") ?? ""
            try await storeReceipt(roomID: roomID, type: type, eventID: try req.param("eventId"), threadID: thread, user: req.user)
            return .empty
        }
        t.post("/_matrix/client/v3/rooms/:roomId/read_markers") { [self] req in
            let roomID = try req.param("roomId")
            let body = try req.jsonBody()
            for (key, type) in [("m.fully_read", "m.fully_read"), ("m.read", "m.read"), ("m.read.private", "m.read.private")] {
                if let e = try body.string(key) {
                    try await storeReceipt(roomID: roomID, type: type, eventID: e, threadID: "", user: req.user)
                }
            }
            return .empty
        }
        return t
    }

    private func storeReceipt(roomID: String, type: String, eventID: String, threadID: String, user: TokenOwner) async throws {
        try await requireJoined(roomID, user.userID)
        guard let ev = try await events.event(eventID), ev.event.roomID == roomID else { throw MatrixError.notFound("Event not found") }
        if type == "m.fully_read" {
            let pos = try await userData.setAccountData(user.userID, roomID: roomID, type: "m.fully_read",
                                                        content: JSON.object(["event_id": .string(eventID)]).canonicalString)
            announce(StreamNotice(pos: pos, users: [user.userID]))
            return
        }
        let pos = try await userData.setReceipt(roomID: roomID, type: type, userID: user.userID, threadID: threadID, eventID: ev.event.eventID)
        announce(StreamNotice(pos: pos, rooms: [roomID]))
        // Private receipts stay on this server.
        if type == "m.read" {
            publisher.publishEDU(["kind": "receipt", "room_id": roomID, "user_id": user.userID, "event_id": ev.event.eventID,
                                  "thread_id": threadID, "ts": String(nowMillis())])
        }
    }

    /// Typing stops by itself: after the timeout, a new position tells syncing clients.
    func scheduleTypingExpiry(roomID: String, userID: String, afterMs: Int64, setAt: Int64) {
        Task { [self] in
            try? await Task.sleep(for: .milliseconds(afterMs + 50))
            let still = try? await db.rows("SELECT 1 FROM typing WHERE room_id = \(roomID) AND user_id = \(userID) AND stream_pos = \(setAt)")
            guard let still, !still.isEmpty else { return }
            if let pos = try? await userData.setTyping(roomID: roomID, userID: userID, timeoutMs: nil) {
                announce(StreamNotice(pos: pos, rooms: [roomID]))
            }
        }
    }
}
