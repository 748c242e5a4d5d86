import MatrixCore
import Testing

@Suite struct ConnectionURLTests {
    @Test func readsEveryPart() throws {
        let u = try ConnectionURL("postgres://myelin:p%40ss%3Aword@db.internal:5433/myelin?sslmode=disable")
        #expect(u.scheme == "postgres")
        #expect(u.user == "myelin")
        #expect(u.password == "p@ss:word")
        #expect(u.host == "db.internal")
        #expect(u.port == 5433)
        #expect(u.path == "myelin", "the query is dropped")
    }

    @Test func partsLeftOutStayNil() throws {
        let u = try ConnectionURL("redis://cache")
        #expect(u.user == nil && u.password == nil && u.port == nil && u.path == "")
        let lone = try ConnectionURL("redis://secret@cache")
        #expect(lone.user == "secret" && lone.password == nil)
        let empty = try ConnectionURL("redis://:secret@cache")
        #expect(empty.user == "" && empty.password == "secret")
    }

    @Test func anUnencodedAtBelongsToThePassword() throws {
        let u = try ConnectionURL("postgres://me:a@b@host/db")
        #expect(u.password == "a@b")
        #expect(u.host == "host")
    }

    @Test func bracketedIPv6() throws {
        let u = try ConnectionURL("postgres://[::1]:6543/x")
        #expect(u.host == "::1" && u.port == 6543 && u.path == "x")
    }

    @Test(arguments: ["db.internal:5432", "postgres://", "postgres://user@", "postgres://h:0", "postgres://h:70000",
                      "postgres://h:port/db", "postgres://[::1/db", "postgres://[::1]x/db", "postgres://u:%zz@h"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: ConnectionURLError.self) { try ConnectionURL(text) }
    }
}
