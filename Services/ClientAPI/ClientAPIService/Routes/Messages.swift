import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// /messages, /context and /relations.
extension ClientAPI {
    func messageRoutes() -> RouteTable {
        var t = RouteTable()
        t.get("/_matrix/client/v3/rooms/:roomId/messages") { [self] req in
            let roomID = try req.param("roomId")
            let upTo = try await readableUpTo(roomID, req.user.userID)
            let dir = req.queryValue("dir") ?? "b"
            guard dir == "b" || dir == "f" else { throw MatrixError.invalidParam("dir must be b or f") }
            let limit = min(max(try req.queryInt("limit") ?? 10, 0), 1000)
            let filter = try req.queryValue("filter").map { try RoomEventFilter.parse($0) } ?? RoomEventFilter()
            let from = try StreamToken.parse(req.queryValue("from"))
            let to = try StreamToken.parse(req.queryValue("to"))
            var chunk: [StoredEvent]
            let start: Int64
            let end: Int64?
            if dir == "b" {
                start = min(from ?? upTo, upTo)
                chunk = try await events.roomEvents(roomID, after: to ?? Int64.min, upTo: start, limit: limit, backwards: true)
                // Short of a page with no `to`: the timeline held here may start after the
                // room did; earlier history comes from the other servers, a batch at a time.
                var rounds = 0
                while chunk.count < limit, to == nil, rounds < 4, await backfill(roomID, wanted: limit - chunk.count) {
                    rounds += 1
                    chunk = try await events.roomEvents(roomID, after: Int64.min, upTo: start, limit: limit, backwards: true)
                }
                end = chunk.count == limit ? chunk.last.map { $0.streamPos - 1 } : nil
            } else {
                start = from ?? Int64.min
                chunk = try await events.roomEvents(roomID, after: start, upTo: min(to ?? upTo, upTo), limit: limit, backwards: false)
                end = chunk.last?.streamPos ?? nil
            }
            chunk = try await historyFilter(roomID, req.user.userID).apply(
                filter.apply(chunk, ignoring: ignoredUsers(req.user.userID)))
            var out: [String: JSON] = [
                "start": .string(StreamToken.make(start)),
                "chunk": .array(try await format(chunk, roomID: roomID, viewer: req.user)),
            ]
            if let end { out["end"] = .string(StreamToken.make(end)) }
            if filter.lazyLoadMembers {
                let senders = Set(chunk.map(\.event.sender))
                let state = try await events.stateAt(roomID, pos: upTo).filter {
                    $0.event.type == "m.room.member" && senders.contains($0.event.stateKey ?? "")
                }
                out["state"] = .array(try await format(state, roomID: roomID, viewer: req.user))
            }
            return .json(.object(out))
        }
        t.get("/_matrix/client/v3/rooms/:roomId/context/:eventId") { [self] req in
            let roomID = try req.param("roomId")
            let upTo = try await readableUpTo(roomID, req.user.userID)
            let history = try await historyFilter(roomID, req.user.userID)
            guard let ev = try await events.event(try req.param("eventId")), ev.event.roomID == roomID, ev.streamPos <= upTo,
                  history.visible(ev) else {
                throw MatrixError.notFound("Event not found")
            }
            let limit = min(max(try req.queryInt("limit") ?? 10, 0), 100)
            let before = history.apply(try await events.roomEvents(roomID, after: Int64.min, upTo: ev.streamPos - 1, limit: limit / 2, backwards: true))
            let after = history.apply(try await events.roomEvents(roomID, after: ev.streamPos, upTo: upTo, limit: limit - limit / 2, backwards: false))
            let state = try await events.stateAt(roomID, pos: ev.streamPos)
            return .json([
                "event": try await format([ev], roomID: roomID, viewer: req.user)[0],
                "events_before": .array(try await format(before, roomID: roomID, viewer: req.user)),
                "events_after": .array(try await format(after, roomID: roomID, viewer: req.user)),
                "start": .string(StreamToken.make((before.last?.streamPos ?? ev.streamPos) - 1)),
                "end": .string(StreamToken.make(after.last?.streamPos ?? ev.streamPos)),
                "state": .array(try await format(state, roomID: roomID, viewer: req.user)),
            ])
        }
        for suffix in ["", "/:relType", "/:relType/:eventType"] {
            t.get("/_matrix/client/v1/rooms/:roomId/relations/:eventId\(suffix)") { [self] req in
                let roomID = try req.param("roomId")
                let upTo = try await readableUpTo(roomID, req.user.userID)
                let parent = try req.param("eventId")
                let history = try await historyFilter(roomID, req.user.userID)
                guard let p = try await events.event(parent), p.event.roomID == roomID, p.streamPos <= upTo, history.visible(p) else {
                    throw MatrixError.notFound("Event not found")
                }
                let backwards = (req.queryValue("dir") ?? "b") == "b"
                let limit = min(max(try req.queryInt("limit") ?? 50, 1), 1000)
                let from = try StreamToken.parse(req.queryValue("from"))
                let to = try StreamToken.parse(req.queryValue("to"))
                let before = backwards ? (from ?? upTo + 1) : (to.map { $0 + 1 } ?? upTo + 1)
                let after = backwards ? (to ?? Int64.min) : (from ?? Int64.min)
                let chunk = try await events.relations(roomID, eventID: parent, relType: req.params["relType"],
                                                       eventType: req.params["eventType"], before: min(before, upTo + 1),
                                                       after: after, limit: limit, backwards: backwards)
                var out: [String: JSON] = ["chunk": .array(try await format(history.apply(chunk), roomID: roomID, viewer: req.user))]
                if chunk.count == limit, let last = chunk.last {
                    out["next_batch"] = .string(StreamToken.make(backwards ? last.streamPos : last.streamPos))
                }
                return .json(.object(out))
            }
        }
        return t
    }

    func ignoredUsers(_ userID: String) async throws -> Set<String> {
        Self.ignoredUsers(in: try await userData.accountData(userID, roomID: "", type: "m.ignored_user_list"))
    }

    /// The users an `m.ignored_user_list` content names.
    static func ignoredUsers(in content: String?) -> Set<String> {
        guard let content, let o = try? JSON.parse(content), let ignored = o["ignored_users"]?.objectValue else { return [] }
        return Set(ignored.keys)
    }
}
