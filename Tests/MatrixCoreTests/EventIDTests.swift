import Crypto
import Foundation
import Testing
@testable import MatrixCore

/// Event IDs per room version and the v12 room ID. Expected hashes are computed here
/// independently: SHA-256 of a hand-written canonical redacted event, Base64 by Foundation.
@Suite struct EventIDTests {
    /// A real room version 5 create event from a public room, whose ID other implementations
    /// publish: `$RrGxF28UrHLmoASHndYb9Jb/1SFww2ptmtur9INS438` (v3 form).
    static let realCreateEvent = """
        {"auth_events": [], "prev_events": [], "type": "m.room.create", "room_id": "!uXDCzlYgCTHtiWCkEx:jki.re", "sender": "@erikj:jki.re", "content": {"room_version": "5", "predecessor": {"room_id": "!gdRMqOrTFdOCYHNwOo:half-shot.uk", "event_id": "$LP7ROBc4b+cMc1UE9haIz8q5AK2AIW4eJ90FfKLvyZI"}, "creator": "@erikj:jki.re"}, "depth": 1, "prev_state": [], "state_key": "", "origin": "jki.re", "origin_server_ts": 1560284621137, "hashes": {"sha256": "IX6zuNiJpJPNf70BLleL3HSCpjKeq9Uhu7uUpyDjBmc"}, "signatures": {"jki.re": {"ed25519:auto": "O4IyFfF2PPtGp5uaDm8t57dZbdh8vc8Q64LgCwvzYRVItAMI0uisfiAFaxkVT7MRpzh6N2QNN5NMRXZKmgPYDA"}}, "unsigned": {"age": 1321650}}
        """

    static func sha256(_ canonical: String) -> Data { Data(SHA256.hash(data: Data(canonical.utf8))) }

    static func unpadded(_ data: Data, urlSafe: Bool) -> String {
        var s = data.base64EncodedString().replacingOccurrences(of: "=", with: "")
        if urlSafe { s = s.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") }
        return s
    }

    @Test func realEventIDInVersion3And4Forms() throws {
        let event = try JSON.parse(Self.realCreateEvent)
        #expect(event.computedEventID(for: .v3)?.rawValue == "$RrGxF28UrHLmoASHndYb9Jb/1SFww2ptmtur9INS438")
        #expect(event.computedEventID(for: .v5)?.rawValue == "$RrGxF28UrHLmoASHndYb9Jb_1SFww2ptmtur9INS438")
        #expect(event.hasValidContentHash)
    }

    @Test func versions1And2HaveNoComputedID() throws {
        let event = try JSON.parse(Self.realCreateEvent)
        #expect(event.computedEventID(for: .v1) == nil)
        var withID = event
        withID["event_id"] = "$abc:jki.re"
        #expect(withID.eventID(for: .v2)?.rawValue == "$abc:jki.re")
    }

    static let unsignedMessage: JSON = [
        "type": "m.room.message", "room_id": "!r:example.org", "sender": "@u:example.org",
        "origin": "example.org", "origin_server_ts": 1700000000000, "depth": 4,
        "prev_events": ["$p"], "auth_events": ["$a"], "content": ["body": "hi", "msgtype": "m.text"],
        "unsigned": ["transaction_id": "t1"],
    ]

    @Test func finalizeInVersion1GeneratesServerScopedID() throws {
        let key = try SigningKey.generate()
        let server = try #require(ServerName("example.org"))
        let event = try finalizeEvent(Self.unsignedMessage, roomVersion: .v1, serverName: server, signingKey: key)
        let id = try #require(EventID(event.eventID))
        #expect(id.server == server)
        #expect(id.hasFormat(.v1))
        #expect(id.opaque.count == 18)
        #expect(event.json["event_id"]?.stringValue == event.eventID)
        #expect(event.json.hasValidContentHash)
        try event.json.verifyEventSignature(for: .v1, server: "example.org", key: key.verifyKey)
    }

    @Test(arguments: [RoomVersion.v3, .v4, .v10, .v11, .v12])
    func finalizeDerivesIDFromReferenceHash(_ version: RoomVersion) throws {
        let key = try SigningKey.generate()
        let server = try #require(ServerName("example.org"))
        var input = Self.unsignedMessage
        input["event_id"] = "$should-be-dropped:example.org"
        let event = try finalizeEvent(input, roomVersion: version, serverName: server, signingKey: key)
        #expect(event.json["event_id"] == nil)
        #expect(event.json["unsigned"] == ["transaction_id": "t1"])

        // The redacted form, written by hand; v11 drops `origin` from it.
        let hash = try #require(event.json["hashes"]?["sha256"]?.stringValue)
        let origin = version.number >= 11 ? "" : #""origin":"example.org","#
        let canonical = #"{"auth_events":["$a"],"content":{},"depth":4,"hashes":{"sha256":"\#(hash)"},"#
            + origin + #""origin_server_ts":1700000000000,"prev_events":["$p"],"room_id":"!r:example.org","#
            + #""sender":"@u:example.org","type":"m.room.message"}"#
        let urlSafe = version.eventIDFormat == .v4
        #expect(event.eventID == "$" + Self.unpadded(Self.sha256(canonical), urlSafe: urlSafe))
        #expect(try #require(EventID(event.eventID)).hasFormat(version.eventIDFormat))

        #expect(event.json.hasValidContentHash)
        try event.json.verifyEventSignature(for: version, server: "example.org", key: key.verifyKey)
    }

    @Test func version12CreateEventDefinesRoomID() throws {
        let key = try SigningKey.generate()
        let server = try #require(ServerName("example.org"))
        let create: JSON = [
            "type": "m.room.create", "state_key": "", "sender": "@u:example.org",
            "origin_server_ts": 1700000000000, "depth": 1, "prev_events": [], "auth_events": [],
            "content": ["room_version": "12"],
        ]
        let event = try finalizeEvent(create, roomVersion: .v12, serverName: server, signingKey: key)
        let hash = try #require(event.json["hashes"]?["sha256"]?.stringValue)
        let canonical = #"{"auth_events":[],"content":{"room_version":"12"},"depth":1,"hashes":{"sha256":"\#(hash)"},"#
            + #""origin_server_ts":1700000000000,"prev_events":[],"sender":"@u:example.org","state_key":"","#
            + #""type":"m.room.create"}"#
        let expectedHash = Self.unpadded(Self.sha256(canonical), urlSafe: true)
        #expect(event.eventID == "$" + expectedHash)

        let roomID = try #require(event.json.createdRoomID(for: .v12))
        #expect(roomID.rawValue == "!" + expectedHash)
        #expect(roomID.server == nil)
        #expect(RoomID(createEventID: try #require(EventID(event.eventID))) == roomID)
        // Older versions choose room IDs freely.
        #expect(event.json.createdRoomID(for: .v11) == nil)
    }

    @Test func version12CreateEventMustNotHaveRoomID() throws {
        let key = try SigningKey.generate()
        let server = try #require(ServerName("example.org"))
        let create: JSON = ["type": "m.room.create", "state_key": "", "room_id": "!x:example.org", "content": [:]]
        #expect(throws: EventBuildError.createEventHasRoomID) {
            try finalizeEvent(create, roomVersion: .v12, serverName: server, signingKey: key)
        }
        // Version 11 create events carry a room ID.
        #expect((try? finalizeEvent(create, roomVersion: .v11, serverName: server, signingKey: key)) != nil)
    }

    @Test func floatsRefusedFromVersion6() throws {
        let key = try SigningKey.generate()
        let server = try #require(ServerName("example.org"))
        var input = Self.unsignedMessage
        input["content"] = ["n": 1.5]
        #expect(throws: EventBuildError.notCanonicalJSON) {
            try finalizeEvent(input, roomVersion: .v6, serverName: server, signingKey: key)
        }
        #expect((try? finalizeEvent(input, roomVersion: .v5, serverName: server, signingKey: key)) != nil)
    }

    @Test func builderUsesItsContext() throws {
        let key = try SigningKey.generate(version: "k1")
        let server = try #require(ServerName("example.org"))
        let builder = EventBuilder(roomVersion: .v11, serverName: server, signingKey: key)
        let event = try builder.finalize(Self.unsignedMessage)
        #expect(event.json.signatureKeyIDs(of: "example.org") == ["ed25519:k1"])
        #expect(event.eventID == event.json.computedEventID(for: .v11)?.rawValue)
    }

    /// The builder signs and identifies an event from one redacted encoding: the ID it gives
    /// must be the reference hash computed from scratch, and the signature must verify, in
    /// every room version, also where redaction prunes the content.
    @Test func builtEventIDIsTheReferenceHashInEveryVersion() throws {
        let key = try SigningKey.generate(version: "k1")
        let server = try #require(ServerName("example.org"))
        var member = Self.unsignedMessage
        member["type"] = "m.room.member"
        member["state_key"] = "@alice:example.org"
        member["content"] = ["membership": "join", "displayname": "Alice"]
        for version in RoomVersion.all {
            for input in [Self.unsignedMessage, member] {
                let event = try finalizeEvent(input, roomVersion: version, serverName: server, signingKey: key)
                #expect(event.eventID == event.json.eventID(for: version)?.rawValue, "room version \(version.id)")
                if version.eventIDFormat != .v1 {
                    #expect(event.eventID == event.json.computedEventID(for: version)?.rawValue, "room version \(version.id)")
                }
                #expect(throws: Never.self) {
                    try event.json.verifyEventSignature(for: version, server: "example.org", key: key.verifyKey)
                }
            }
        }
    }

    @Test func eventIDFormatChecks() throws {
        let v3 = try #require(EventID("$RrGxF28UrHLmoASHndYb9Jb/1SFww2ptmtur9INS438"))
        let v4 = try #require(EventID("$RrGxF28UrHLmoASHndYb9Jb_1SFww2ptmtur9INS438"))
        let v1 = try #require(EventID("$yvN1b43rlmcOs5fY:localhost"))
        #expect(v3.hasFormat(.v3) && !v3.hasFormat(.v4) && !v3.hasFormat(.v1))
        #expect(v4.hasFormat(.v4) && !v4.hasFormat(.v3))
        #expect(v1.hasFormat(.v1) && !v1.hasFormat(.v4))
        #expect(v1.server?.rawValue == "localhost")
        #expect(!(try #require(EventID("$short"))).hasFormat(.v4))
    }
}
