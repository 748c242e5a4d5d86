import MatrixCore
import ServiceKit
import Storage

/// GET /v1/rooms/{roomId}/timestamp_to_event: the event closest to a time, in a direction.
extension ClientAPI {
    func timestampRoutes() -> RouteTable {
        var t = RouteTable()
        t.get("/_matrix/client/v1/rooms/:roomId/timestamp_to_event") { [self] req in
            let roomID = try req.param("roomId")
            let upTo = try await readableUpTo(roomID, req.user.userID)
            guard let ts = try req.queryInt("ts") else { throw MatrixError.missingParam("ts is required") }
            let dir = req.queryValue("dir") ?? ""
            guard dir == "f" || dir == "b" else { throw MatrixError.invalidParam("dir must be f or b") }
            let history = try await historyFilter(roomID, req.user.userID)
            let forward = dir == "f"
            // Ties on the timestamp go to stream order; a few candidates cover hidden ones.
            let rows = try await db.rows("""
                SELECT event_id FROM events WHERE room_id = \(roomID) AND stream_pos <= \(upTo) AND placement = 0
                  AND (CASE WHEN \(forward) THEN origin_server_ts >= \(Int64(ts)) ELSE origin_server_ts <= \(Int64(ts)) END)
                ORDER BY (CASE WHEN \(forward) THEN origin_server_ts ELSE -origin_server_ts END),
                         (CASE WHEN \(forward) THEN stream_pos ELSE -stream_pos END)
                LIMIT 50
                """)
            let ids = try rows.map { try $0.decode(String.self) }
            let candidates = try await events.events(ids)
            for id in ids {
                if let e = candidates.first(where: { $0.event.eventID == id }), history.visible(e) {
                    return .json(["event_id": .string(id), "origin_server_ts": .int(e.event.originServerTS)])
                }
            }
            throw MatrixError.notFound("Unable to find event from \(ts) in direction \(dir)")
        }
        return t
    }
}
