import Testing
@testable import MatrixCore

/// The spec appendix "Event Signing" vectors: content hash and signature over the redacted
/// event, with `unsigned` carried through untouched.
@Suite struct EventSigningTests {
    static let minimalEvent = """
        {
            "room_id": "!x:domain",
            "sender": "@a:domain",
            "origin": "domain",
            "origin_server_ts": 1000000,
            "signatures": {},
            "hashes": {},
            "type": "X",
            "content": {},
            "prev_events": [],
            "auth_events": [],
            "depth": 3,
            "unsigned": {
                "age_ts": 1000000
            }
        }
        """
    static let minimalSigned = """
        {
            "auth_events": [],
            "content": {},
            "depth": 3,
            "hashes": {
                "sha256": "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"
            },
            "origin": "domain",
            "origin_server_ts": 1000000,
            "prev_events": [],
            "room_id": "!x:domain",
            "sender": "@a:domain",
            "signatures": {
                "domain": {
                    "ed25519:1": "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"
                }
            },
            "type": "X",
            "unsigned": {
                "age_ts": 1000000
            }
        }
        """
    static let messageEvent = """
        {
            "content": {
                "body": "Here is the message content"
            },
            "event_id": "$0:domain",
            "origin": "domain",
            "origin_server_ts": 1000000,
            "type": "m.room.message",
            "room_id": "!r:domain",
            "sender": "@u:domain",
            "signatures": {},
            "unsigned": {
                "age_ts": 1000000
            }
        }
        """
    static let messageSigned = """
        {
            "content": {
                "body": "Here is the message content"
            },
            "event_id": "$0:domain",
            "hashes": {
                "sha256": "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"
            },
            "origin": "domain",
            "origin_server_ts": 1000000,
            "type": "m.room.message",
            "room_id": "!r:domain",
            "sender": "@u:domain",
            "signatures": {
                "domain": {
                    "ed25519:1": "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"
                }
            },
            "unsigned": {
                "age_ts": 1000000
            }
        }
        """

    @Test func minimalEventMatchesSpec() throws {
        let key = try SpecSigningKey.make()
        let signed = try JSON.parse(Self.minimalEvent).hashedAndSigned(for: .v1, server: "domain", key: key)
        #expect(signed.canonicalString == (try JSON.parse(Self.minimalSigned)).canonicalString)
    }

    @Test func redactableEventMatchesSpec() throws {
        let key = try SpecSigningKey.make()
        let signed = try JSON.parse(Self.messageEvent).hashedAndSigned(for: .v1, server: "domain", key: key)
        #expect(signed.canonicalString == (try JSON.parse(Self.messageSigned)).canonicalString)
    }

    @Test func finalizeEventReproducesSpecVectorForRoomVersion1() throws {
        // The vector carries its own v1 event ID, which finalizing must keep.
        let key = try SpecSigningKey.make()
        let server = try #require(ServerName("domain"))
        let event = try finalizeEvent(JSON.parse(Self.messageEvent), roomVersion: .v1, serverName: server, signingKey: key)
        #expect(event.eventID == "$0:domain")
        #expect(event.json.canonicalString == (try JSON.parse(Self.messageSigned)).canonicalString)
    }

    @Test func contentHashesOfSpecVectorsVerify() throws {
        #expect(try JSON.parse(Self.minimalSigned).hasValidContentHash)
        #expect(try JSON.parse(Self.messageSigned).hasValidContentHash)
        var edited = try JSON.parse(Self.messageSigned)
        edited["content"] = ["body": "changed"]
        #expect(!edited.hasValidContentHash)
    }

    @Test func eventSignatureSurvivesRedactionButNotEdits() throws {
        let key = try SpecSigningKey.make()
        let signed = try JSON.parse(Self.messageSigned)
        try signed.verifyEventSignature(for: .v1, server: "domain", key: key.verifyKey)
        // Redacted copies keep a valid signature: the signature covers only what survives.
        try signed.redacted(for: .v1).verifyEventSignature(for: .v1, server: "domain", key: key.verifyKey)
        // Content edits keep the signature valid but break the content hash.
        var edited = signed
        edited["content"] = ["body": "changed"]
        #expect((try? edited.verifyEventSignature(for: .v1, server: "domain", key: key.verifyKey)) != nil)
        #expect(!edited.hasValidContentHash)
        // Edits to protected keys break the signature.
        var moved = signed
        moved["origin_server_ts"] = 2
        #expect(throws: JSONSignatureError.badSignature(entity: "domain", keyID: "ed25519:1")) {
            try moved.verifyEventSignature(for: .v1, server: "domain", key: key.verifyKey)
        }
    }

    @Test func coSigningKeepsTheOriginalSignature() throws {
        let key = try SpecSigningKey.make()
        let resident = try SigningKey.generate(version: "r")
        let signed = try JSON.parse(Self.messageSigned)
            .addingEventSignature(for: .v1, server: "resident.org", key: resident)
        try signed.verifyEventSignature(for: .v1, server: "domain", key: key.verifyKey)
        try signed.verifyEventSignature(for: .v1, server: "resident.org", key: resident.verifyKey)
    }
}
