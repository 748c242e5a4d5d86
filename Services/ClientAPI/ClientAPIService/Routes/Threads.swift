import MatrixCore
import ServiceKit
import Storage

/// GET /v1/rooms/{roomId}/threads: thread roots, most recently active first, each with its
/// `m.thread` summary (latest reply, reply count, whether the user took part).
extension ClientAPI {
    func threadRoutes() -> RouteTable {
        var t = RouteTable()
        t.get("/_matrix/client/v1/rooms/:roomId/threads") { [self] req in
            let roomID = try req.param("roomId")
            let upTo = try await readableUpTo(roomID, req.user.userID)
            let include = req.queryValue("include") ?? "all"
            guard include == "all" || include == "participated" else { throw MatrixError.invalidParam("include must be all or participated") }
            let limit = min(max(try req.queryInt("limit") ?? 20, 1), 100)
            let before = try StreamToken.parse(req.queryValue("from")) ?? upTo + 1
            let user = req.user.userID
            let rows = try await db.rows("""
                SELECT t.relates_to, MAX(t.stream_pos) AS latest, COUNT(*) AS replies, bool_or(t.sender = \(user)) AS mine
                FROM events t WHERE t.room_id = \(roomID) AND t.rel_type = 'm.thread' AND t.stream_pos <= \(upTo) AND t.placement = 0
                GROUP BY t.relates_to
                HAVING MAX(t.stream_pos) < \(before)
                ORDER BY latest DESC LIMIT \(limit + 1)
                """)
            var threads: [(root: String, latest: Int64, replies: Int64, mine: Bool)] = []
            for row in rows {
                let (root, latest, replies, mine) = try row.decode((String, Int64, Int64, Bool).self)
                threads.append((root, latest, replies, mine))
            }
            let more = threads.count > limit
            threads = Array(threads.prefix(limit))
            let history = try await historyFilter(roomID, user)
            let roots = try await events.events(threads.map(\.root)).filter { $0.event.roomID == roomID && history.visible($0) }
            let latestEvents = try await events.events(try await latestReplies(roomID, threads.map(\.root)))
            var chunk: [JSON] = []
            for th in threads {
                guard let root = roots.first(where: { $0.event.eventID == th.root }) else { continue }
                let participated = th.mine || root.event.sender == user
                if include == "participated", !participated { continue }
                var j = try await format([root], roomID: roomID, viewer: req.user)[0]
                var summary: [String: JSON] = ["count": .int(th.replies), "current_user_participated": .bool(participated)]
                if let latest = latestEvents.first(where: { $0.streamPos == th.latest }) {
                    summary["latest_event"] = try await format([latest], roomID: roomID, viewer: req.user)[0]
                }
                j["unsigned"]?["m.relations"] = ["m.thread": .object(summary)]
                chunk.append(j)
            }
            var out: [String: JSON] = ["chunk": .array(chunk)]
            if more, let last = threads.last { out["next_batch"] = .string(StreamToken.make(last.latest)) }
            return .json(.object(out))
        }
        return t
    }

    /// The newest reply of each thread root.
    private func latestReplies(_ roomID: String, _ roots: [String]) async throws -> [String] {
        guard !roots.isEmpty else { return [] }
        var out: [String] = []
        for try await id in try await db.query("""
            SELECT DISTINCT ON (relates_to) event_id FROM events
            WHERE room_id = \(roomID) AND rel_type = 'm.thread' AND relates_to = ANY(\(roots)) AND placement = 0
            ORDER BY relates_to, stream_pos DESC
            """).decode(String.self) { out.append(id) }
        return out
    }
}
