import MatrixCore
import ServiceKit
import Storage

/// /pushers, /pushers/set and /notifications.
extension ClientAPI {
    func pusherRoutes() -> RouteTable {
        var t = RouteTable()
        let store = PusherStore(db: db)
        t.get("/_matrix/client/v3/pushers") { req in
            let list = try await store.pushers(of: [req.user.userID]).map { p -> JSON in
                var o: [String: JSON] = [
                    "app_id": .string(p.appID), "pushkey": .string(p.pushkey), "kind": .string(p.kind),
                    "app_display_name": .string(p.appDisplayName), "device_display_name": .string(p.deviceDisplayName),
                    "lang": .string(p.lang), "data": (try? JSON.parse(p.data)) ?? [:],
                ]
                if let tag = p.profileTag { o["profile_tag"] = .string(tag) }
                return .object(o)
            }
            return .json(["pushers": .array(list)])
        }
        t.post("/_matrix/client/v3/pushers/set", rateLimited: true) { req in
            let body = try req.jsonBody()
            let appID = try body.requiredString("app_id"), pushkey = try body.requiredString("pushkey")
            guard appID.utf8.count <= 64, pushkey.utf8.count <= 512 else { throw MatrixError.invalidParam("app_id or pushkey too long") }
            guard let kind = body["kind"] else { throw MatrixError.missingParam("kind is required") }
            if kind.isNull {
                try await store.delete(userID: req.user.userID, appID: appID, pushkey: pushkey)
                return .empty
            }
            guard kind.stringValue == "http" || kind.stringValue == "email" else { throw MatrixError.invalidParam("kind must be http or email") }
            let data = try body.object("data") ?? [:]
            if kind.stringValue == "http" {
                // The spec requires the gateway URL to be the notify endpoint.
                guard let url = data["url"]?.stringValue, url.hasSuffix("/_matrix/push/v1/notify"),
                      url.hasPrefix("https://") || url.hasPrefix("http://") else {
                    throw MatrixError.invalidParam("data.url must be an http(s) URL ending in /_matrix/push/v1/notify")
                }
            }
            let p = PusherStore.Pusher(
                userID: req.user.userID, appID: appID, pushkey: pushkey, kind: kind.stringValue!,
                appDisplayName: try body.requiredString("app_display_name"),
                deviceDisplayName: try body.requiredString("device_display_name"),
                profileTag: try body.string("profile_tag"), lang: try body.requiredString("lang"),
                data: JSON.object(data).canonicalString, createdTS: nowMillis())
            try await store.set(p, append: try body.bool("append") ?? false)
            return .empty
        }
        t.get("/_matrix/client/v3/notifications") { [self] req in
            let limit = min(max(try req.queryInt("limit") ?? 20, 1), 100)
            let before = try StreamToken.parse(req.queryValue("from")) ?? Int64.max
            let rows = try await store.notifications(req.user.userID, before: before, limit: limit,
                                                     onlyHighlight: req.queryValue("only") == "highlight")
            let stored = try await events.events(rows.map(\.eventID))
            var out: [JSON] = []
            for r in rows {
                guard let ev = stored.first(where: { $0.event.eventID == r.eventID }) else { continue }
                let read = try await userData.readUpTo(userID: req.user.userID, roomID: r.roomID).values.contains { $0 >= r.streamPos }
                out.append([
                    "room_id": .string(r.roomID), "ts": .int(ev.event.originServerTS), "read": .bool(read),
                    "actions": (try? JSON.parse(r.actionsJSON)) ?? [],
                    "event": try await format([ev], roomID: r.roomID, viewer: req.user)[0],
                ])
            }
            var body: [String: JSON] = ["notifications": .array(out)]
            if rows.count == limit, let last = rows.last { body["next_token"] = .string(StreamToken.make(last.streamPos)) }
            return .json(.object(body))
        }
        return t
    }
}
