import MatrixCore
import RoomServer
import Storage
import Testing

/// Room creation through the room server: identifier formats per room version, and the
/// current state, memberships and extremities it leaves in Postgres.
@Suite(.freshDatabase)
struct RoomCreationTests {
    @Test(arguments: [RoomVersion.default, .v1, .v10])
    func createsARoomWithTheVersionsIdentifiersAndState(version: RoomVersion) async throws {
        let db = try TestDatabase.current().db
        let server = try RoomFixtures.server(db)
        let alice = RoomFixtures.user("alice-v\(version.id)")
        let (roomID, results) = try await RoomFixtures.createRoom(server, version: version, creator: alice)
        #expect(results.count == 4)
        let create = results[0].event, member = results[1].event, power = results[2].event, joinRules = results[3].event

        // Identifiers.
        let parsedRoom = try #require(RoomID(roomID))
        if version.roomIDFromCreateEvent {
            #expect(parsedRoom.server == nil, "v12 room IDs carry no server name")
            #expect(roomID == "!" + create.eventID.dropFirst(), "v12 room ID is the create event's reference hash")
            #expect(create.json["room_id"] == nil, "v12 create events have no room_id")
        } else {
            #expect(parsedRoom.server == RoomFixtures.serverName)
            #expect(create.roomID == roomID)
        }
        for r in results {
            let id = try #require(EventID(r.event.eventID))
            #expect(id.hasFormat(version.eventIDFormat), "\(r.event.eventID) is not a v\(version.id) event ID")
            if version.eventIDFormat == .v1 { #expect(id.server == RoomFixtures.serverName) }
            if r.event.type != "m.room.create" || !version.roomIDFromCreateEvent { #expect(r.event.roomID == roomID) }
        }
        #expect(create.type == "m.room.create" && create.content["room_version"]?.stringValue == version.id)

        // Positions ascend in order, and the chain is linear from the create event.
        let positions = results.map(\.streamPos)
        #expect(positions == positions.sorted() && Set(positions).count == positions.count)
        let chain = try await StoredChain.load(db, roomID: roomID)
        #expect(chain.events.map(\.event.eventID) == results.map(\.event.eventID))
        #expect(chain.linearityProblem == nil, "\(chain.linearityProblem ?? "")")

        // Current state: exactly the four state events.
        var state: [String: String] = [:]
        for row in try await db.rows("SELECT type, state_key, event_id FROM current_state WHERE room_id = \(roomID)") {
            let (t, k, e) = try row.decode((String, String, String).self)
            state["\(t)|\(k)"] = e
        }
        #expect(state == [
            "m.room.create|": create.eventID, "m.room.member|\(alice)": member.eventID,
            "m.room.power_levels|": power.eventID, "m.room.join_rules|": joinRules.eventID,
        ])

        // Membership, room row and extremities.
        let membership = try #require(try await RoomsStore(db: db).membership(roomID, alice))
        #expect(membership.membership == "join" && membership.eventID == member.eventID && membership.streamPos == results[1].streamPos)
        #expect(try await RoomsStore(db: db).joinedRooms(alice) == [roomID])
        #expect(try await EventStore(db: db).roomVersion(roomID) == version.id)
        #expect(try await db.int64("SELECT last_pos FROM rooms WHERE room_id = \(roomID)") == results.last!.streamPos)
        #expect(try await db.strings("SELECT event_id FROM forward_extremities WHERE room_id = \(roomID)") == [joinRules.eventID])

        // The writer's own view agrees.
        let cached = try await server.state(roomID: roomID)
        #expect(cached.membership(of: alice) == "join")
        #expect(cached.version == version)
    }
}
