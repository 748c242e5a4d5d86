import MatrixCore
import RoomServer
import Storage
import Synchronization

/// Room servers and rooms for tests that drive the room server directly.
enum RoomFixtures {
    static let serverName = ServerName("myelin.test")!

    static func user(_ localpart: String) -> String { "@\(localpart):\(serverName.rawValue)" }

    /// A room server over `db`, recording what it commits.
    static func server(_ db: Database, key: SigningKey? = nil, label: String = "rooms",
                       commits: CommitLog? = nil) throws -> RoomServer {
        RoomServer(store: EventStore(db: db), serverName: serverName, signingKey: try key ?? SigningKey.generate(),
                   logger: TestEnvironment.logger(label), onCommit: { c in commits?.append(c) })
    }

    /// Creates a public room the way createRoom does: create, creator's join, power levels,
    /// join rules. Returns the room ID and the results in order.
    static func createRoom(_ server: RoomServer, version: RoomVersion = .default,
                           creator: String) async throws -> (String, [EventResult]) {
        var create: [String: JSON] = ["room_version": .string(version.id)]
        if !version.updatedRedactionRules { create["creator"] = .string(creator) }
        let users: [String: JSON] = version.additionalCreators ? [:] : [creator: 100]
        let initial = [
            EventRequest(sender: creator, type: "m.room.member", stateKey: creator, content: ["membership": "join"]),
            EventRequest(sender: creator, type: "m.room.power_levels", stateKey: "", content: [
                "users": .object(users), "users_default": 0, "events_default": 0, "state_default": 50,
                "ban": 50, "kick": 50, "redact": 50, "invite": 0,
            ]),
            EventRequest(sender: creator, type: "m.room.join_rules", stateKey: "", content: ["join_rule": "public"]),
        ]
        return try await server.createRoom(version: version, creator: creator, createContent: .object(create),
                                           initialEvents: initial)
    }

    static func join(_ server: RoomServer, _ roomID: String, _ user: String) async throws -> EventResult {
        try await server.send(roomID: roomID, EventRequest(sender: user, type: "m.room.member", stateKey: user,
                                                           content: ["membership": "join"]))
    }

    static func message(_ sender: String, _ body: String, txn: TxnRef? = nil) -> EventRequest {
        EventRequest(sender: sender, type: "m.room.message", content: ["msgtype": "m.text", "body": .string(body)], txn: txn)
    }
}

/// Everything a room server reported as committed.
final class CommitLog: Sendable {
    private let items = Mutex<[CommittedEvent]>([])
    func append(_ c: [CommittedEvent]) { items.withLock { $0.append(contentsOf: c) } }
    var all: [CommittedEvent] { items.withLock { $0 } }
}

/// A room's events in stream order, straight from the events table.
struct StoredChain {
    let events: [(pos: Int64, event: Event)]

    static func load(_ db: Database, roomID: String) async throws -> StoredChain {
        let stored = try await EventStore(db: db).roomEvents(roomID, after: 0, upTo: Int64.max, limit: 100_000, backwards: false)
        return StoredChain(events: stored.map { ($0.streamPos, $0.event) })
    }

    /// Nil when every event's only prev_event is the one before it and depth grows by one;
    /// otherwise what is wrong, for the failure message.
    var linearityProblem: String? {
        for (i, e) in events.enumerated() {
            if i == 0 {
                guard e.event.prevEventIDs.isEmpty, e.event.depth == 1 else { return "first event is not a root at depth 1" }
                continue
            }
            let prev = events[i - 1].event
            guard e.event.prevEventIDs == [prev.eventID] else {
                return "event \(i) (\(e.event.eventID)) has prev_events \(e.event.prevEventIDs), expected [\(prev.eventID)]"
            }
            guard e.event.depth == prev.depth + 1 else {
                return "event \(i) has depth \(e.event.depth) after depth \(prev.depth)"
            }
        }
        return nil
    }
}
