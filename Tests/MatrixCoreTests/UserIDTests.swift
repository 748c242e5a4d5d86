import Testing
@testable import MatrixCore

/// User ID grammar, including historical localparts (spec appendix "User Identifiers").
@Suite struct UserIDTests {
    @Test func parsesCurrentGrammar() throws {
        let id = try UserID.parse("@alice.b_c=d-e/f+g:example.org:8448")
        #expect(id.localpart == "alice.b_c=d-e/f+g")
        #expect(id.server.host == "example.org" && id.server.port == 8448)
        #expect(!id.isHistorical && id.isCompliant)
        #expect(id.description == "@alice.b_c=d-e/f+g:example.org:8448")
    }

    @Test func ipv6Server() throws {
        let id = try UserID.parse("@bob:[::1]:8448")
        #expect(id.localpart == "bob")
        #expect(id.server.kind == .ipv6 && id.server.port == 8448)
    }

    @Test(arguments: ["@Alice:example.org", "@a!b:example.org", "@a#b:example.org", "@:example.org",
                      "@émile:example.org", "@a b:example.org", "@tab\tbed:example.org"])
    func historicalLocalpartsAreAccepted(_ raw: String) throws {
        let id = try UserID.parse(raw)
        #expect(id.isHistorical)
    }

    @Test func complianceFollowsPrintableASCII() throws {
        #expect(try UserID.parse("@Alice:example.org").isCompliant)
        #expect(try UserID.parse("@a!b:example.org").isCompliant)
        #expect(try !UserID.parse("@:example.org").isCompliant)
        #expect(try !UserID.parse("@émile:example.org").isCompliant)
        #expect(try !UserID.parse("@a b:example.org").isCompliant)
    }

    @Test func rejectsMalformed() {
        #expect(throws: IdentifierError.missingSigil(expected: "@")) { try UserID.parse("alice:example.org") }
        #expect(throws: IdentifierError.missingServerName) { try UserID.parse("@alice") }
        #expect(throws: IdentifierError.invalidLocalpart("a\u{0}b")) { try UserID.parse("@a\u{0}b:example.org") }
        #expect(throws: IdentifierError.invalidServerName("exa mple.org")) { try UserID.parse("@a:exa mple.org") }
        #expect(UserID("") == nil)
        #expect(UserID("@a:") == nil)
    }

    @Test func lengthLimitIs255Bytes() throws {
        let server = "example.org"
        let fits = "@" + String(repeating: "a", count: 255 - 2 - server.count) + ":" + server
        #expect(fits.utf8.count == 255)
        #expect(UserID(fits) != nil)
        let tooLong = "@" + String(repeating: "a", count: 256 - 2 - server.count) + ":" + server
        #expect(throws: IdentifierError.tooLong(bytes: 256)) { try UserID.parse(tooLong) }
        // Bytes, not characters: 'é' is two bytes.
        let multiByte = "@" + String(repeating: "é", count: 122) + ":" + server
        #expect(multiByte.count < 255 && multiByte.utf8.count > 255)
        #expect(UserID(multiByte) == nil)
    }

    @Test func newAccountsUseTheStrictSet() throws {
        let server = try #require(ServerName("example.org"))
        let id = try UserID.forNewAccount(localpart: "new.user_1=2-3/4+5", server: server)
        #expect(id.rawValue == "@new.user_1=2-3/4+5:example.org")
        #expect(id == UserID("@new.user_1=2-3/4+5:example.org"))
        for bad in ["", "Alice", "a!b", "a:b", "émile", "a b"] {
            #expect(throws: IdentifierError.invalidLocalpart(bad)) { try UserID.forNewAccount(localpart: bad, server: server) }
        }
        #expect(throws: IdentifierError.tooLong(bytes: 256)) {
            try UserID.forNewAccount(localpart: String(repeating: "a", count: 243), server: server)
        }
    }
}

extension UserIDTests {
    @Test func localpartStartingWithCombiningMarkStaysSeparateFromSigil() throws {
        let id = try UserID.parse("@\u{301}x:example.org")
        #expect(id.localpart == "\u{301}x")
        #expect(id.server.rawValue == "example.org")
        #expect(id.isHistorical && !id.isCompliant)
    }
}
