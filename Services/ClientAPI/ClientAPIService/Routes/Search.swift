import MatrixCore
import ServiceKit
import Storage

/// POST /search: room events by full text, ranked or newest first, with optional context.
extension ClientAPI {
    func searchRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/v3/search", rateLimited: true) { [self] req in
            let body = try req.jsonBody()
            guard let categories = try body.object("search_categories"), let criteria = try categories.object("room_events") else {
                throw MatrixError.badJSON("search_categories.room_events is required")
            }
            let term = try criteria.requiredString("search_term")
            let keys = try criteria.stringArray("keys") ?? ["content.body", "content.name", "content.topic"]
            let typeForKey = ["content.body": "m.room.message", "content.name": "m.room.name", "content.topic": "m.room.topic"]
            let types = try keys.map { k -> String in
                guard let t = typeForKey[k] else { throw MatrixError.invalidParam("Unknown search key \(k)") }
                return t
            }
            let order = try criteria.string("order_by") ?? "rank"
            guard order == "rank" || order == "recent" else { throw MatrixError.invalidParam("order_by must be rank or recent") }
            let filter = try RoomEventFilter(try criteria.object("filter") ?? [:])
            let limit = filter.limit ?? 10
            let offset = try req.queryValue("next_batch").map { s -> Int in
                guard let n = Int(s), n >= 0 else { throw MatrixError.invalidParam("Invalid next_batch") }
                return n
            } ?? 0
            let joined = try await rooms.joinedRooms(req.user.userID).filter { filter.allowsRoom($0) }
            let (hits, count) = try await SearchStore(db: db).search(term: term, rooms: joined, types: types, byRank: order == "rank",
                                                                     offset: offset, limit: limit)
            let context = try criteria.object("event_context")
            let stored = try await events.events(hits.map(\.eventID))
            var results: [JSON] = []
            var histories: [String: HistoryFilter] = [:]
            for hit in hits {
                guard let ev = stored.first(where: { $0.event.eventID == hit.eventID }), filter.matches(ev.event) else { continue }
                if histories[hit.roomID] == nil { histories[hit.roomID] = try await historyFilter(hit.roomID, req.user.userID) }
                guard histories[hit.roomID]!.visible(ev) else { continue }
                var r: [String: JSON] = [
                    "rank": .double(hit.rank),
                    "result": try await format([ev], roomID: hit.roomID, viewer: req.user)[0],
                ]
                if let context { r["context"] = try await searchContext(ev, context, viewer: req.user) }
                results.append(.object(r))
            }
            var out: [String: JSON] = [
                "results": .array(results), "count": .int(count),
                "highlights": JSON(term.split(separator: " ").map { $0.lowercased() }),
            ]
            if Int64(offset + hits.count) < count { out["next_batch"] = .string(String(offset + hits.count)) }
            return .json(["search_categories": ["room_events": .object(out)]])
        }
        return t
    }

    private func searchContext(_ ev: StoredEvent, _ spec: [String: JSON], viewer: TokenOwner) async throws -> JSON {
        let beforeLimit = Int(try spec.int("before_limit") ?? 5), afterLimit = Int(try spec.int("after_limit") ?? 5)
        let roomID = ev.event.roomID
        let upTo = try await readableUpTo(roomID, viewer.userID)
        let history = try await historyFilter(roomID, viewer.userID)
        let before = history.apply(try await events.roomEvents(roomID, after: Int64.min, upTo: ev.streamPos - 1, limit: beforeLimit, backwards: true))
        let after = history.apply(try await events.roomEvents(roomID, after: ev.streamPos, upTo: upTo, limit: afterLimit, backwards: false))
        return [
            "events_before": .array(try await format(before, roomID: roomID, viewer: viewer)),
            "events_after": .array(try await format(after, roomID: roomID, viewer: viewer)),
            "start": .string(StreamToken.make((before.last?.streamPos ?? ev.streamPos) - 1)),
            "end": .string(StreamToken.make(after.last?.streamPos ?? ev.streamPos)),
        ]
    }
}
