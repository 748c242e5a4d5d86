import MatrixCore
import RoomServer
@testable import Storage
import Testing

/// Notifications most members share are stored once per event (migration 0017); the counts,
/// /notifications and the layout must read as if every member had a row of their own.
@Suite(.serialized, .freshDatabase)
struct SharedNotificationsTests {
    static let alice = RoomFixtures.user("alice"), bob = RoomFixtures.user("bob")
    static let carol = RoomFixtures.user("carol"), dave = RoomFixtures.user("dave")
    static let erin = RoomFixtures.user("erin"), frank = RoomFixtures.user("frank"), grace = RoomFixtures.user("grace")

    /// Every joined member but the sender is evaluated; a message naming someone highlights
    /// them, and Dave has muted everything.
    static func server(_ db: Database) throws -> RoomServer {
        RoomServer(store: EventStore(db: db), serverName: RoomFixtures.serverName, signingKey: try SigningKey.generate(),
                   logger: TestEnvironment.logger("shared-notifications"), onCommit: { _ in }, pushActions: { batch in
            batch.map { event, state in
                guard event.type == "m.room.message" else { return .none }
                let body = event.content["body"]?.stringValue ?? ""
                let recipients = [alice, bob, carol, dave, erin, frank, grace].filter { $0 != event.sender && state.membership(of: $0) == "join" }
                let rows = recipients.filter { $0 != dave }.map { user in
                    body.contains(user)
                        ? PushActionRow(userID: user, highlight: true, threadID: "main", actionsJSON: "[\"notify\",\"highlight\"]")
                        : PushActionRow(userID: user, highlight: false, threadID: "main", actionsJSON: "[\"notify\"]")
                }
                return PushOutcome(rows: rows, recipients: recipients)
            }
        })
    }

    private func counts(_ db: Database, _ user: String, _ room: String) async throws -> (Int64, Int64) {
        let byRoom = try await UserDataStore(db: db).unreadCounts([UnreadRequest(userID: user, rooms: [room])])
        return byRoom[0][room]?["main"] ?? (0, 0)
    }

    @Test func sharedRowsCountForTheMembersJoinedWhenSentAndNotForTheExcluded() async throws {
        let db = try TestDatabase.current().db
        let server = try Self.server(db)
        let (room, _) = try await RoomFixtures.createRoom(server, creator: Self.alice)
        for u in [Self.bob, Self.carol, Self.dave, Self.frank, Self.grace] { _ = try await RoomFixtures.join(server, room, u) }
        _ = try await server.send(roomID: room, RoomFixtures.message(Self.alice, "hello"))
        _ = try await server.send(roomID: room, RoomFixtures.message(Self.alice, "hi \(Self.carol)"))
        // Erin joins after two messages; Bob leaves, misses one, and comes back.
        _ = try await RoomFixtures.join(server, room, Self.erin)
        _ = try await server.send(roomID: room, EventRequest(sender: Self.bob, type: "m.room.member", stateKey: Self.bob,
                                                             content: ["membership": "leave"]))
        _ = try await server.send(roomID: room, RoomFixtures.message(Self.alice, "while bob is away"))
        _ = try await RoomFixtures.join(server, room, Self.bob)
        // A profile change is a join too: it must not restart Bob's count.
        _ = try await server.send(roomID: room, EventRequest(sender: Self.bob, type: "m.room.member", stateKey: Self.bob,
                                                             content: ["membership": "join", "displayname": "Bob"]))
        _ = try await server.send(roomID: room, RoomFixtures.message(Self.carol, "from carol"))

        // One shared row per message; only Carol's highlight is a row of its own.
        #expect(try await db.int64("SELECT count(*) FROM event_notifications WHERE room_id = \(room)") == 4)
        #expect(try await db.int64("SELECT count(*) FROM event_push_actions WHERE room_id = \(room)") == 1)
        #expect(try await db.int64("""
            SELECT count(*) FROM event_notifications WHERE room_id = \(room) AND \(Self.dave) = ANY(excluded)
            """) == 4)

        #expect(try await counts(db, Self.bob, room) == (1, 0))    // a rejoin starts afresh: from carol
        #expect(try await counts(db, Self.carol, room) == (3, 1))  // hello, her mention (own row), while away
        #expect(try await counts(db, Self.dave, room) == (0, 0))   // muted
        #expect(try await counts(db, Self.erin, room) == (2, 0))   // joined after the first two
        #expect(try await counts(db, Self.alice, room) == (1, 0))  // her own messages never count

        let pushers = PusherStore(db: db)
        let carols = try await pushers.notifications(Self.carol, before: .max, limit: 10, onlyHighlight: false)
        #expect(carols.count == 3)
        #expect(carols.map(\.streamPos) == carols.map(\.streamPos).sorted(by: >))
        #expect(carols.filter(\.highlight).count == 1)
        let highlights = try await pushers.notifications(Self.carol, before: .max, limit: 10, onlyHighlight: true)
        #expect(highlights.count == 1 && highlights[0].actionsJSON == "[\"notify\",\"highlight\"]")
        let carolsNewest = try await pushers.notifications(Self.carol, before: .max, limit: 1, onlyHighlight: false)
        #expect(carolsNewest.count == 1 && carolsNewest[0].streamPos == carols[0].streamPos)
        #expect(try await pushers.notifications(Self.carol, before: carolsNewest[0].streamPos, limit: 10,
                                                onlyHighlight: false).map(\.streamPos) == Array(carols.dropFirst().map(\.streamPos)))
        let bobs = try await pushers.notifications(Self.bob, before: .max, limit: 10, onlyHighlight: false)
        #expect(bobs.count == 1)

        // A read receipt on the newest message clears the count.
        let newest = try #require(bobs.first)
        _ = try await UserDataStore(db: db).setReceipt(roomID: room, type: "m.read", userID: Self.bob, threadID: "",
                                                       eventID: newest.eventID)
        #expect(try await counts(db, Self.bob, room) == (0, 0))

        // Once Carol has left, /notifications keeps her own row of the room (her highlight).
        _ = try await server.send(roomID: room, EventRequest(sender: Self.carol, type: "m.room.member", stateKey: Self.carol,
                                                             content: ["membership": "leave"]))
        let afterLeaving = try await pushers.notifications(Self.carol, before: .max, limit: 10, onlyHighlight: false)
        #expect(afterLeaving.map(\.eventID) == carols.filter(\.highlight).map(\.eventID))
    }

    @Test func fewNotifiedMembersKeepOwnRows() {
        let row = { (u: String) in PushActionRow(userID: u, highlight: false, threadID: "main", actionsJSON: "[\"notify\"]") }
        let recipients = (1...10).map { RoomFixtures.user("m\($0)") }
        // Three of ten notified: a shared row would name seven exceptions.
        let few = NotificationLayout(rows: recipients.prefix(3).map(row), recipients: recipients)
        #expect(few.shared == nil && few.own.count == 3)
        let most = NotificationLayout(rows: recipients.prefix(8).map(row), recipients: recipients)
        #expect(most.shared?.excluded == Array(recipients.suffix(2)) && most.own.isEmpty)
        // Without the recipients (or with a notified member outside them) nothing is shared.
        #expect(NotificationLayout(rows: recipients.map(row), recipients: []).shared == nil)
        #expect(NotificationLayout(rows: recipients.map(row), recipients: Array(recipients.dropFirst())).shared == nil)
    }
}
