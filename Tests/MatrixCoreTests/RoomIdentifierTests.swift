import Testing
@testable import MatrixCore

/// Room IDs, room aliases and event ID parsing (spec appendix "Room IDs", "Room Aliases",
/// "Event IDs").
@Suite struct RoomIdentifierTests {
    @Test func roomIDWithServer() throws {
        let id = try RoomID.parse("!jEsUZKDJdhlrceRyVU:example.org:8448")
        #expect(id.opaque == "jEsUZKDJdhlrceRyVU")
        #expect(id.server?.rawValue == "example.org:8448")
        #expect(!id.isCreateEventHash)
    }

    @Test func version12RoomIDHasNoServer() throws {
        let id = try RoomID.parse("!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ")
        #expect(id.server == nil)
        #expect(id.isCreateEventHash)
        #expect(id.opaque == "Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ")
    }

    @Test func roomIDRejects() {
        #expect(throws: IdentifierError.missingSigil(expected: "!")) { try RoomID.parse("#a:b") }
        #expect(RoomID("!") == nil)
        #expect(RoomID("!:example.org") == nil)
        #expect(RoomID("!abc:bad_server") == nil)
        #expect(RoomID("!" + String(repeating: "a", count: 255)) == nil)
    }

    @Test func generatedRoomIDsAreUniqueAndParse() throws {
        let server = try #require(ServerName("example.org"))
        let a = RoomID.generate(server: server)
        let b = RoomID.generate(server: server)
        #expect(a != b)
        #expect(RoomID(a.rawValue) == a)
        #expect(a.opaque.count == 18)
        #expect(a.server == server)
    }

    @Test func aliases() throws {
        let alias = try RoomAlias.parse("#Café lounge:example.org")
        #expect(alias.localpart == "Café lounge")
        #expect(alias.server.rawValue == "example.org")
        #expect(throws: IdentifierError.missingServerName) { try RoomAlias.parse("#lounge") }
        #expect(throws: IdentifierError.invalidLocalpart("")) { try RoomAlias.parse("#:example.org") }
        #expect(RoomAlias("!lounge:example.org") == nil)
        let built = try RoomAlias(localpart: "lounge", server: try #require(ServerName("[::1]")))
        #expect(built.rawValue == "#lounge:[::1]")
    }

    @Test func eventIDs() throws {
        let v1 = try EventID.parse("$143273582443PhrSn:example.org")
        #expect(v1.opaque == "143273582443PhrSn" && v1.server?.rawValue == "example.org")
        let hashed = try EventID.parse("$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg")
        #expect(hashed.server == nil)
        #expect(hashed.hasFormat(.v4))
        #expect(EventID("$") == nil)
        #expect(EventID("Rqnc") == nil)
        #expect(EventID("$abc:not a server") == nil)
    }

    @Test func opaqueIDsAreAlphanumeric() {
        let id = OpaqueID.generate(length: 64)
        #expect(id.count == 64)
        #expect(id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) })
        #expect(OpaqueID.generate(length: 32) != OpaqueID.generate(length: 32))
        #expect(OpaqueID.generate(length: 0) == "")
    }
}
