import MatrixCore
import ServiceKit
import Storage

/// Reporting a room or an event to the server's administrators.
extension ClientAPI {
    func reportRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/v3/rooms/:roomId/report/:eventId", rateLimited: true) { [self] req in
            let roomID = try req.param("roomId")
            let eventID = try req.param("eventId")
            let body = try req.jsonBody()
            let reason = try body.string("reason")
            let score = try body.int("score")
            if let score, !(-100...0).contains(score) {
                throw MatrixError.invalidParam("score must be an integer between -100 and 0")
            }
            guard try await reporterMaySee(eventID, in: roomID, req.user.userID) else {
                throw MatrixError.notFound("The event was not found or you are not joined to the room.")
            }
            try await directory.addReport(userID: req.user.userID, roomID: roomID, eventID: eventID, reason: reason, score: score)
            return .json([:])
        }
        t.post("/_matrix/client/v3/rooms/:roomId/report", rateLimited: true) { [self] req in
            let roomID = try req.param("roomId")
            guard let reason = try req.jsonBody().string("reason") else { throw MatrixError.missingParam("Missing reason") }
            // Reporters need not be in the room, but the room must exist here.
            guard try await rooms.isPublic(roomID) != nil else { throw MatrixError.notFound("The room was not found.") }
            try await directory.addReport(userID: req.user.userID, roomID: roomID, eventID: nil, reason: reason, score: nil)
            return .json([:])
        }
        return t
    }

    /// A joined user may report an event of the room that history visibility lets them see.
    private func reporterMaySee(_ eventID: String, in roomID: String, _ userID: String) async throws -> Bool {
        guard try await rooms.membership(roomID, userID)?.membership == "join",
              let ev = try await events.event(eventID), ev.event.roomID == roomID else { return false }
        let before = try await events.stateAt(roomID, pos: ev.streamPos - 1)
        var state: StateMap = [:]
        for s in before { if let key = s.event.stateTuple { state[key] = s.event } }
        return EventVisibility.userMaySee(ev.event, userID: userID, stateBefore: state, joinedAfterEvent: true)
    }
}
