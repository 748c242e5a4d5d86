import Bus
import Testing

@Suite struct RedisURLTests {
    @Test func parsesPasswordHostPortAndDatabase() throws {
        let url = try RedisURL("redis://:s3cret@cache.internal:6380/2")
        #expect(url == RedisURL(host: "cache.internal", port: 6380, password: "s3cret", database: 2))
        #expect(url.username == nil)
    }

    @Test func appliesDefaults() throws {
        let url = try RedisURL("redis://localhost")
        #expect(url == RedisURL(host: "localhost", port: 6379, password: nil, database: 0))
    }

    @Test func parsesUsernameAndPercentEncodedPassword() throws {
        let url = try RedisURL("redis://me:p%40ss%3Aword@h:1/0")
        #expect(url.username == "me")
        #expect(url.password == "p@ss:word")
        #expect(url.host == "h")
        #expect(url.port == 1)
    }

    @Test func parsesBracketedIPv6() throws {
        let url = try RedisURL("redis://[::1]:7000/3")
        #expect(url.host == "::1")
        #expect(url.port == 7000)
        #expect(url.database == 3)
    }

    @Test(arguments: ["http://h:6379", "rediss://h:6379", "redis://", "redis://h:0", "redis://h:99999",
                      "redis://h:port", "redis://h/db", "redis://[::1", "redis://:%zz@h"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: RedisError.self) { try RedisURL(text) }
    }

    @Test func descriptionHidesPassword() throws {
        let url = try RedisURL("redis://:s3cret@h:6380/1")
        #expect(!url.description.contains("s3cret"))
        #expect(url.description == "redis://:***@h:6380/1")
    }
}
