import Storage
import Testing

/// The database URL from configuration, read without Foundation's URL parser.
@Suite struct DatabaseURLTests {
    @Test func readsCredentialsHostPortAndDatabase() throws {
        let u = try DatabaseURL("postgresql://myelin:s%2Fcret@db:5433/homeserver")
        #expect(u.user == "myelin" && u.password == "s/cret" && u.host == "db" && u.port == 5433 && u.database == "homeserver")
    }

    @Test func defaultsFollowPostgres() throws {
        let u = try DatabaseURL("postgres://alice@localhost")
        #expect(u.port == 5432 && u.database == "alice" && u.password == nil)
        #expect(try DatabaseURL("postgres://localhost/x").user == "postgres")
    }

    @Test(arguments: ["mysql://u@h/db", "postgres://", "localhost:5432/db", "postgres://h:99999/db"])
    func rejectsWhatIsNotAPostgresURL(_ text: String) {
        #expect(throws: StorageError.self) { try DatabaseURL(text) }
    }
}
