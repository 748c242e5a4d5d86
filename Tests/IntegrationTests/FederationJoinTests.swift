import FederationClient
import Foundation
import MatrixCore
import Storage
import Testing

/// Another server's users joining, leaving and being invited: B is the resident server, and
/// the test plays A's side of the handshake with A's real signing key (B fetches A's keys
/// from A over TLS), so B's checks run against genuinely signed events.
@Suite(.serialized) struct FederationJoinTests {
    @Test func aRemoteUserJoinsAndLeavesAPublicRoom() async throws {
        try await withTwoFederatedServers { a, b in
            let remote = RemoteSide(origin: a, target: b)
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "public_chat", "name": "Town square"])
            let carol = "@carol:\(a.name)"

            let (old, _, _) = try await remote.handshakeEvent("join", room: room, user: carol, versions: [("ver", "1"), ("ver", "2")])
            #expect(old.status == .badRequest && old.errcode == "M_INCOMPATIBLE_ROOM_VERSION", "\(old)")
            #expect(old.json["room_version"]?.stringValue == RoomVersion.default.id)
            let (notOurs, _, _) = try await remote.handshakeEvent("join", room: room, user: "@dave:\(b.name)")
            #expect(notOurs.status == .forbidden, "users of another server: \(notOurs)")
            let (unknown, _, _) = try await remote.handshakeEvent("join", room: "!nowhere:\(b.name)", user: carol)
            #expect(unknown.status == .notFound, "\(unknown)")

            let (made, joinEvent, version) = try await remote.handshakeEvent("join", room: room, user: carol)
            #expect(made.status == .ok, "\(made)")
            let join = try #require(joinEvent), v = try #require(version)
            #expect(made.json["event"]?["prev_events"]?.arrayValue?.count == 1)

            // A signature that does not verify is refused, and nothing changes.
            let impostor = try SigningKey(seed: try SigningKey.generate().seed, version: a.api.signingKey.version)
            let forged = try finalizeEvent(join.json, roomVersion: v, serverName: a.api.serverName, signingKey: impostor)
            let refused = try await remote.sendMembership("join", forged, room: room)
            #expect(refused.status == .badRequest && refused.errcode == "M_INVALID_PARAM", "\(refused)")
            let tampered = Event(eventID: join.eventID, json: {
                var j = join.json
                j["content"] = ["membership": "join", "displayname": "not signed"]
                return j
            }())
            let badHash = try await remote.sendMembership("join", tampered, room: room)
            #expect(badHash.status == .badRequest, "\(badHash)")
            #expect(try await b.api.rooms.membership(room, carol) == nil)

            let joined = try await remote.sendMembership("join", join, room: room)
            #expect(joined.status == .ok, "\(joined)")
            let state = joined.json["state"]?.arrayValue ?? []
            #expect(state.contains { $0["type"]?.stringValue == "m.room.create" })
            #expect(state.contains { $0["type"]?.stringValue == "m.room.name" })
            #expect(!state.contains { $0["state_key"]?.stringValue == carol }, "the state before the join")
            #expect((joined.json["auth_chain"]?.arrayValue?.count ?? 0) > 0)
            let countersigned = try #require(joined.json["event"])
            #expect((try? countersigned.verifyEventSignature(for: v, server: b.name, key: b.api.signingKey.verifyKey)) != nil)
            #expect((try? countersigned.verifyEventSignature(for: v, server: a.name, key: a.api.signingKey.verifyKey)) != nil)
            #expect(try await b.api.rooms.membership(room, carol)?.membership == "join")
            #expect(try await b.api.events.joinedServers(room) == [a.name, b.name].sorted())

            // Bob sees Carol join in his sync, and a repeated send_join gets the same state.
            let sync = try await b.sync(bob)
            let timeline = sync.joinedRoom(room)?.timelineEvents ?? []
            #expect(timeline.contains { $0["state_key"]?.stringValue == carol && $0["content"]?["membership"] == "join" }, "\(sync)")
            let again = try await remote.sendMembership("join", join, room: room)
            #expect(again.status == .ok && again.json["state"]?.arrayValue?.count == state.count, "\(again)")

            let (madeLeave, leaveEvent, _) = try await remote.handshakeEvent("leave", room: room, user: carol)
            #expect(madeLeave.status == .ok, "\(madeLeave)")
            let left = try await remote.sendMembership("leave", try #require(leaveEvent), room: room)
            #expect(left.status == .ok, "\(left)")
            #expect(try await b.api.rooms.membership(room, carol)?.membership == "leave")
        }
    }

    @Test func invitesAndJoinRulesAreEnforced() async throws {
        try await withTwoFederatedServers { a, b in
            let remote = RemoteSide(origin: a, target: b)
            let bob = try await b.makeUser("bob")
            let room = try await b.createRoom(bob, ["preset": "private_chat"])
            let carol = "@carol:\(a.name)"
            let (closed, _, _) = try await remote.handshakeEvent("join", room: room, user: carol)
            #expect(closed.status == .forbidden && closed.errcode == "M_FORBIDDEN", "invite only: \(closed)")

            // Restricted to members of a room Carol is not in: refused; B knows the room.
            let other = try await b.createRoom(bob, ["preset": "private_chat"])
            let restricted = try await b.createRoom(bob, [
                "preset": "private_chat",
                "initial_state": [["type": "m.room.join_rules", "state_key": "",
                                   "content": ["join_rule": "restricted",
                                               "allow": [["type": "m.room_membership", "room_id": .string(other)]]]]],
            ])
            let (notMember, _, _) = try await remote.handshakeEvent("join", room: restricted, user: carol)
            #expect(notMember.status == .forbidden, "\(notMember)")
            let unknownRoom = try await b.createRoom(bob, [
                "preset": "private_chat",
                "initial_state": [["type": "m.room.join_rules", "state_key": "",
                                   "content": ["join_rule": "restricted",
                                               "allow": [["type": "m.room_membership", "room_id": "!elsewhere:example.org"]]]]],
            ])
            let (cannot, _, _) = try await remote.handshakeEvent("join", room: unknownRoom, user: carol)
            #expect(cannot.status == .badRequest && cannot.errcode == "M_UNABLE_TO_AUTHORISE_JOIN", "\(cannot)")

            // Invited (her server keeps the invite), Carol may join.
            _ = try await a.makeUser("carol")
            _ = try await b.ok(.post, "/_matrix/client/v3/rooms/\(HTTPPath.escape(room))/invite", token: bob.token,
                               json: ["user_id": .string(carol)])
            let (made, join, _) = try await remote.handshakeEvent("join", room: room, user: carol)
            #expect(made.status == .ok, "\(made)")
            let joined = try await remote.sendMembership("join", try #require(join), room: room)
            #expect(joined.status == .ok, "\(joined)")
        }
    }

    @Test func anotherServerInvitesALocalUser() async throws {
        try await withTwoFederatedServers { a, b in
            let bob = try await b.makeUser("bob")
            let v = RoomVersion.v10
            let room = "!elsewhere:\(a.name)"
            let carol = "@carol:\(a.name)"
            func invite(_ target: String, signer: SigningKey) throws -> Event {
                try finalizeEvent([
                    "type": "m.room.member", "state_key": .string(target), "sender": .string(carol), "room_id": .string(room),
                    "content": ["membership": "invite"], "origin_server_ts": .int(Int64(Date().timeIntervalSince1970 * 1000)),
                    "depth": 5, "prev_events": [], "auth_events": [],
                ], roomVersion: v, serverName: a.api.serverName, signingKey: signer)
            }
            func put(_ e: Event, version: String = v.id) async throws -> HTTPResult {
                try await b.signedRequest("PUT", FederationPath.target("/_matrix/federation/v2/invite", [room, e.eventID]),
                                          origin: a.name, key: a.api.signingKey, body: [
                                              "room_version": .string(version), "event": e.json,
                                              "invite_room_state": [
                                                  ["type": "m.room.name", "state_key": "", "sender": .string(carol),
                                                   "content": ["name": "Over there"]],
                                                  ["type": "m.room.join_rules", "state_key": "", "sender": .string(carol),
                                                   "content": ["join_rule": "invite"]],
                                              ]])
            }
            let unsupported = try await put(try invite(bob.userID, signer: a.api.signingKey), version: "99")
            #expect(unsupported.status == .badRequest && unsupported.errcode == "M_INCOMPATIBLE_ROOM_VERSION", "\(unsupported)")
            let nobody = try await put(try invite("@nobody:\(b.name)", signer: a.api.signingKey))
            #expect(nobody.status == .notFound, "\(nobody)")
            let forged = try await put(try invite(bob.userID, signer: try SigningKey.generate(version: a.api.signingKey.version)))
            #expect(forged.status == .badRequest, "\(forged)")

            // From room version 12 the state must be the room's own events, its create event first of all.
            let v12Room = "!" + String(repeating: "B", count: 43)
            let v12Invite = try finalizeEvent([
                "type": "m.room.member", "state_key": .string(bob.userID), "sender": .string(carol), "room_id": .string(v12Room),
                "content": ["membership": "invite"], "origin_server_ts": .int(Int64(Date().timeIntervalSince1970 * 1000)),
                "depth": 5, "prev_events": [], "auth_events": [],
            ], roomVersion: .v12, serverName: a.api.serverName, signingKey: a.api.signingKey)
            let stripped = try await b.signedRequest("PUT", FederationPath.target("/_matrix/federation/v2/invite", [v12Room, v12Invite.eventID]),
                                                     origin: a.name, key: a.api.signingKey, body: [
                                                         "room_version": "12", "event": v12Invite.json,
                                                         "invite_room_state": [["type": "m.room.name", "state_key": "", "sender": .string(carol),
                                                                                "content": ["name": "x"]]]])
            #expect(stripped.status == .badRequest && stripped.errcode == "M_INVALID_PARAM", "\(stripped)")

            let event = try invite(bob.userID, signer: a.api.signingKey)
            let answered = try await put(event)
            #expect(answered.status == .ok, "\(answered)")
            let signed = try #require(answered.json["event"])
            #expect((try? signed.verifyEventSignature(for: v, server: b.name, key: b.api.signingKey.verifyKey)) != nil)

            let sync = try await b.sync(bob)
            let state = sync["rooms"]?["invite"]?[room]?["invite_state"]?["events"]?.arrayValue ?? []
            #expect(state.contains { $0["type"]?.stringValue == "m.room.name" && $0["content"]?["name"] == "Over there" }, "\(sync)")
            #expect(state.contains { $0["state_key"]?.stringValue == bob.userID && $0["content"]?["membership"] == "invite" })
            let sliding = try await b.ok(.post, "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync", token: bob.token,
                                         json: ["lists": ["all": ["ranges": [[0, 10]], "timeline_limit": 1]]])
            #expect(sliding["rooms"]?[room]?["name"]?.stringValue == "Over there", "\(sliding)")
        }
    }
}
