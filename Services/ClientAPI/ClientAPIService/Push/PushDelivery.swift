import AsyncHTTPClient
import Foundation
import Logging
import MatrixCore
import NIOCore
import RoomServer
import Storage

/// Sends notifications to push gateways (`POST …/_matrix/push/v1/notify`) for the events this
/// process commits. It runs beside the event path, never in it: a slow or dead gateway only
/// delays its own deliveries, which are retried with exponential backoff.
final class PushDelivery: Sendable {
    let db: Database
    let pushers: PusherStore
    let events: EventStore
    let logger: Logger
    static let maxAttempts = 6

    init(db: Database, logger: Logger) {
        self.db = db
        self.pushers = PusherStore(db: db)
        self.events = EventStore(db: db)
        self.logger = logger
    }

    /// Called after a commit; returns at once.
    func deliver(_ committed: [CommittedEvent]) {
        let notifying = committed.filter { !$0.pushActions.isEmpty }
        guard !notifying.isEmpty else { return }
        Task { [self] in
            // One lookup for the whole commit: most notified users have no pusher at all.
            let users = Set(notifying.flatMap { $0.pushActions.map(\.userID) })
            let all: [PusherStore.Pusher]
            do { all = try await pushers.pushers(of: Array(users)).filter { $0.kind == "http" } } catch {
                logger.warning("push: could not read pushers: \(error)")
                return
            }
            guard !all.isEmpty else { return }
            for c in notifying {
                do { try await deliver(c, pushers: all) } catch { logger.warning("push for \(c.event.eventID) failed: \(error)") }
            }
        }
    }

    private func deliver(_ c: CommittedEvent, pushers all: [PusherStore.Pusher]) async throws {
        let byUser = Dictionary(c.pushActions.map { ($0.userID, $0) }, uniquingKeysWith: { a, _ in a })
        let targets = all.filter { byUser[$0.userID] != nil }
        guard !targets.isEmpty else { return }
        let context = try await NotificationContext.load(c.event, events: events)
        for p in targets {
            guard let row = byUser[p.userID], let data = try? JSON.parse(p.data), let url = data["url"]?.stringValue else { continue }
            let unread = try await unreadCount(p.userID)
            let body = context.body(for: p, data: data, actions: (try? JSON.parse(row.actionsJSON)) ?? [], unread: unread)
            Task { [self] in await send(body, to: url, pusher: p) }
        }
    }

    /// Unread notifications across the rooms the user is in, after their read receipts: the badge.
    private func unreadCount(_ userID: String) async throws -> Int64 {
        for try await n in try await db.query("""
            SELECT count(*) FROM memberships m CROSS JOIN LATERAL myelin_room_notifications(m.user_id, m.room_id) a
            WHERE m.user_id = \(userID) AND m.membership = 'join' AND a.stream_pos > COALESCE((
                SELECT MAX(e.stream_pos) FROM receipts r JOIN events e ON e.event_id = r.event_id
                WHERE r.room_id = m.room_id AND r.user_id = \(userID) AND r.receipt_type IN ('m.read', 'm.read.private')), 0)
            """).decode(Int64.self) { return n }
        return 0
    }

    private func send(_ body: JSON, to url: String, pusher p: PusherStore.Pusher) async {
        var delay = Duration.seconds(1)
        for attempt in 1...Self.maxAttempts {
            do {
                var request = HTTPClientRequest(url: url)
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: body.canonicalBytes))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                let raw = try await response.body.collect(upTo: 65_536)
                if (200..<300).contains(response.status.code) {
                    let answer = try? JSON.parse(Array(raw.readableBytesView))
                    let rejected = answer?["rejected"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    if rejected.contains(p.pushkey) { try? await pushers.reject(appID: p.appID, pushkey: p.pushkey) }
                    return
                }
                // 4xx other than rate limiting will not get better by retrying.
                if (400..<500).contains(response.status.code), response.status.code != 429 {
                    logger.warning("push gateway \(url) refused a notification: \(response.status.code)")
                    return
                }
            } catch {
                logger.debug("push gateway \(url) attempt \(attempt) failed: \(error)")
            }
            try? await Task.sleep(for: delay)
            delay *= 2
        }
        logger.warning("giving up on push gateway \(url) after \(Self.maxAttempts) attempts")
    }
}

/// What a notification says about the event: room name, sender's display name, content.
struct NotificationContext {
    let event: Event
    let roomName: String?
    let roomAlias: String?
    let senderName: String?

    static func load(_ e: Event, events: EventStore) async throws -> NotificationContext {
        let name = try await events.currentStateEvent(e.roomID, type: "m.room.name", stateKey: "")?.event.content["name"]?.stringValue
        let alias = try await events.currentStateEvent(e.roomID, type: "m.room.canonical_alias", stateKey: "")?.event.content["alias"]?.stringValue
        let sender = try await events.currentStateEvent(e.roomID, type: "m.room.member", stateKey: e.sender)?.event.content["displayname"]?.stringValue
        return NotificationContext(event: e, roomName: name, roomAlias: alias, senderName: sender)
    }

    func body(for p: PusherStore.Pusher, data: JSON, actions: JSON, unread: Int64) -> JSON {
        var tweaks: [String: JSON] = [:]
        for a in actions.arrayValue ?? [] {
            if let name = a["set_tweak"]?.stringValue { tweaks[name] = a["value"] ?? .bool(true) }
        }
        var deviceData = data.objectValue ?? [:]
        deviceData["url"] = nil
        let device: JSON = [
            "app_id": .string(p.appID), "pushkey": .string(p.pushkey), "pushkey_ts": .int(p.createdTS / 1000),
            "data": .object(deviceData), "tweaks": .object(tweaks),
        ]
        var n: [String: JSON] = [
            "event_id": .string(event.eventID), "room_id": .string(event.roomID),
            "counts": ["unread": .int(unread)], "devices": [device],
        ]
        if data["format"]?.stringValue != "event_id_only" {
            n["type"] = .string(event.type)
            n["sender"] = .string(event.sender)
            n["prio"] = tweaks["highlight"] == nil && tweaks["sound"] == nil ? "low" : "high"
            n["content"] = event.content
            if let v = senderName { n["sender_display_name"] = .string(v) }
            if let v = roomName { n["room_name"] = .string(v) }
            if let v = roomAlias { n["room_alias"] = .string(v) }
        }
        return ["notification": .object(n)]
    }
}
