@testable import FederationClient
import MatrixCore
import Testing

@Suite struct WellKnownRulesTests {
    @Test func cachePeriodFollowsCacheControl() {
        #expect(WellKnown.cacheMs(cacheControl: nil) == 24 * 3_600_000)
        #expect(WellKnown.cacheMs(cacheControl: "public, max-age=600") == 600_000)
        #expect(WellKnown.cacheMs(cacheControl: "max-age=999999999") == 48 * 3_600_000)
        #expect(WellKnown.cacheMs(cacheControl: "no-store") == 0)
        #expect(WellKnown.cacheMs(cacheControl: "private, No-Cache") == 0)
        #expect(WellKnown.cacheMs(cacheControl: "max-age=junk") == 24 * 3_600_000)
    }

    @Test func onlyA200WithAServerNameDelegates() {
        #expect(WellKnown.delegatedName(status: 200, body: Array(#"{"m.server":"fed.example.org:443"}"#.utf8))
            == ServerName("fed.example.org:443"))
        #expect(WellKnown.delegatedName(status: 404, body: Array(#"{"m.server":"a.org"}"#.utf8)) == nil)
        #expect(WellKnown.delegatedName(status: 200, body: Array("<html>".utf8)) == nil)
        #expect(WellKnown.delegatedName(status: 200, body: Array(#"{"m.server":"not a name"}"#.utf8)) == nil)
        #expect(WellKnown.delegatedName(status: 200, body: Array(#"{"m.server":5}"#.utf8)) == nil)
    }

    @Test func unreachableHostsBackOffUpToAnHour() {
        #expect(WellKnown.unreachableCacheMs(failures: 1) == 60_000)
        #expect(WellKnown.unreachableCacheMs(failures: 2) == 120_000)
        #expect(WellKnown.unreachableCacheMs(failures: 30) == 3_600_000)
    }
}
