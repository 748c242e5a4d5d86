import FederationClient
import Foundation
import MatrixCore
import Storage
import Testing

/// Room history and state served to another server: only to servers in the room, as signed
/// PDUs, and redacted where the history visibility hides them from that server.
@Suite(.serialized) struct FederationRoomDataTests {
    @Test func historyAndStateForServersInTheRoom() async throws {
        try await withFreshDatabase { dbA in
            try await withFreshDatabase { dbB in
                try await FederatedServer.run(db: dbA.db) { a in
                    try await FederatedServer.run(db: dbB.db) { b in
                        try await check(a, b, dbB.db)
                    }
                }
            }
        }
    }

    func get(_ a: FederatedServer, _ b: FederatedServer, _ uri: String) async throws -> HTTPResult {
        try await b.signedRequest("GET", uri, origin: a.name, key: a.api.signingKey)
    }

    func check(_ a: FederatedServer, _ b: FederatedServer, _ dbB: Database) async throws {
        let bob = try await b.makeUser("bob")
        let room = try await b.createRoom(bob)
        let m1 = try await b.send(bob, room, "one")
        let enc = FederationPath.encode

        let refused = try await get(a, b, "/_matrix/federation/v1/event/\(enc(m1))")
        #expect(refused.status == .forbidden && refused.errcode == "M_FORBIDDEN", "not in the room yet: \(refused)")
        let unknown = try await get(a, b, "/_matrix/federation/v1/state_ids/\(enc("!nope:" + b.name))?event_id=\(enc(m1))")
        #expect(unknown.status == .notFound, "\(unknown)")

        // What a join of one of A's users leaves behind on B.
        try await dbB.query("""
            INSERT INTO memberships (room_id, user_id, membership, event_id, sender, stream_pos)
            VALUES (\(room), \("@alice:" + a.name), 'join', '$remote-join', \("@alice:" + a.name), 0)
            """)

        let version = try #require(RoomVersion.named(try await b.api.events.roomVersion(room) ?? ""))
        let event = try await get(a, b, "/_matrix/federation/v1/event/\(enc(m1))")
        #expect(event.status == .ok, "\(event)")
        let pdu = try #require(event.json["pdus"]?[0])
        #expect(pdu["content"]?["body"]?.stringValue == "one")
        #expect(pdu["unsigned"] == nil)
        #expect(pdu.computedEventID(for: version)?.rawValue == m1, "the PDU hashes to its event ID")
        #expect((try? pdu.verifyEventSignature(for: version, server: b.name, key: b.api.signingKey.verifyKey)) != nil)

        let ids = try await get(a, b, "/_matrix/federation/v1/state_ids/\(enc(room))?event_id=\(enc(m1))")
        #expect(ids.status == .ok, "\(ids)")
        let stateIDs = (ids.json["pdu_ids"]?.arrayValue ?? []).compactMap(\.stringValue)
        let state = try await b.api.events.currentState(room)
        #expect(Set(stateIDs) == Set(state.map(\.event.eventID)), "the state before m1 is the room's current state")
        let createID = try #require(state.first { $0.event.type == "m.room.create" }?.event.eventID)
        #expect((ids.json["auth_chain_ids"]?.arrayValue ?? []).contains(.string(createID)))
        let full = try await get(a, b, "/_matrix/federation/v1/state/\(enc(room))?event_id=\(enc(m1))")
        #expect(full.json["pdus"]?.arrayValue?.count == stateIDs.count, "\(full)")
        let missingParam = try await get(a, b, "/_matrix/federation/v1/state/\(enc(room))")
        #expect(missingParam.status == .badRequest && missingParam.errcode == "M_MISSING_PARAM")

        let auth = try await get(a, b, "/_matrix/federation/v1/event_auth/\(enc(room))/\(enc(m1))")
        let authIDs = (auth.json["auth_chain"]?.arrayValue ?? []).compactMap { $0.computedEventID(for: version)?.rawValue }
        #expect(authIDs.contains(createID), "\(auth)")

        let m2 = try await b.send(bob, room, "two")
        let m3 = try await b.send(bob, room, "three")
        let back = try await get(a, b, "/_matrix/federation/v1/backfill/\(enc(room))?v=\(enc(m3))&limit=3")
        let backIDs = (back.json["pdus"]?.arrayValue ?? []).compactMap { $0.computedEventID(for: version)?.rawValue }
        #expect(backIDs == [m1, m2, m3], "\(back)")

        let missing = try await b.signedRequest("POST", "/_matrix/federation/v1/get_missing_events/\(enc(room))", origin: a.name,
                                                key: a.api.signingKey, body: ["latest_events": [.string(m3)], "earliest_events": [.string(m1)]])
        let missingIDs = (missing.json["events"]?.arrayValue ?? []).compactMap { $0.computedEventID(for: version)?.rawValue }
        #expect(missingIDs == [m2], "\(missing)")

        // History only for joined members: A has no member event in the room, so it gets
        // what follows redacted.
        _ = try await b.ok(.put, "/_matrix/client/v3/rooms/\(enc(room))/state/m.room.history_visibility", token: bob.token,
                           json: ["history_visibility": "joined"])
        let secret = try await b.send(bob, room, "secret")
        let hidden = try await get(a, b, "/_matrix/federation/v1/event/\(enc(secret))")
        let hiddenPDU = try #require(hidden.json["pdus"]?[0])
        #expect(hiddenPDU["content"] == [:], "\(hidden)")
        #expect(hiddenPDU.computedEventID(for: version)?.rawValue == secret, "still the same event")
        let before = try await get(a, b, "/_matrix/federation/v1/event/\(enc(m2))")
        #expect(before.json["pdus"]?[0]?["content"]?["body"]?.stringValue == "two", "earlier history stays visible")
    }
}
