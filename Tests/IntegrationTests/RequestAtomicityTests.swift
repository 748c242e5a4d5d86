import Hummingbird
import MatrixCore
import Storage
import Testing

/// A refused request writes nothing: no half-created room, no stray event.
@Suite(.serialized, .freshDatabase)
struct RequestAtomicityTests {
    /// Rows in every table a room or event touches, and the stream head.
    static func footprint(_ db: Database) async throws -> [Int64] {
        var out: [Int64] = []
        for table in ["rooms", "events", "current_state", "memberships", "forward_extremities", "room_aliases", "event_txns"] {
            out.append(try await db.int64("SELECT count(*) FROM \(unescaped: table)"))
        }
        out.append(try await db.currentStreamHead())
        return out
    }

    @Test func createRoomWithAnInvalidInviteCreatesNothing() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let alice = try await s.user("alice")
            let before = try await Self.footprint(s.db)
            let r = try await s.request(.post, "/_matrix/client/v3/createRoom", token: alice.token, json: [
                "name": "half", "room_alias_name": "half", "invite": ["@fine:myelin.test", "not a user id"],
            ])
            #expect(r.status == .badRequest, "\(r)")
            #expect(r.errcode == "M_INVALID_PARAM")
            #expect(try await Self.footprint(s.db) == before)
            #expect(try await s.api.rooms.resolveAlias("#half:\(TestServer.serverName)") == nil)
        }
    }

    @Test func createRoomWhoseInitialStateFailsAuthCreatesNothing() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let alice = try await s.user("bob")
            let before = try await Self.footprint(s.db)
            // Joining someone else on their behalf breaks the auth rules, after the create,
            // join and power levels have already been built: all of it must be dropped.
            let r = try await s.request(.post, "/_matrix/client/v3/createRoom", token: alice.token, json: [
                "initial_state": [["type": "m.room.member", "state_key": "@victim:myelin.test", "content": ["membership": "join"]]],
            ])
            #expect(r.status == .forbidden, "\(r)")
            #expect(try await Self.footprint(s.db) == before)
            #expect(try await s.api.rooms.joinedRooms(alice.userID).isEmpty)
            // And the user can still create a room afterwards.
            _ = try await s.createRoom(alice)
            #expect(try await s.api.rooms.joinedRooms(alice.userID).count == 1)
        }
    }

    @Test func refusedSendsWriteNothing() async throws {
        try await TestServer.run(db: try TestDatabase.current().db) { s in
            let carol = try await s.user("carol"), dave = try await s.user("dave")
            let room = try await s.createRoom(carol, ["preset": "private_chat"])
            let before = try await Self.footprint(s.db)
            let path = "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/send/m.room.message/"
            let notJSON = try await s.request(.put, path + "t1", token: carol.token, body: Array("{oops".utf8))
            #expect(notJSON.errcode == "M_NOT_JSON", "\(notJSON)")
            let notMember = try await s.request(.put, path + "t2", token: dave.token, json: ["msgtype": "m.text", "body": "hi"])
            #expect(notMember.status == .forbidden, "\(notMember)")
            #expect(try await Self.footprint(s.db) == before)
            // The refused transaction ID is not burnt: retrying it with a valid body sends.
            let retried = try await s.request(.put, path + "t1", token: carol.token, json: ["msgtype": "m.text", "body": "fixed"])
            #expect(retried.status == .ok, "\(retried)")
        }
    }
}
