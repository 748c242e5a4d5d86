import Bus
import Testing

@Suite struct BusBackoffTests {
    @Test func doublesUpToTheCap() {
        let backoff = BusBackoff(initial: .milliseconds(100), maximum: .seconds(1))
        for _ in 0..<20 {
            let first = backoff.delay(afterFailures: 1)
            #expect(first >= .milliseconds(75) && first <= .milliseconds(100))
            let third = backoff.delay(afterFailures: 3)
            #expect(third >= .milliseconds(300) && third <= .milliseconds(400))
            let many = backoff.delay(afterFailures: 500)
            #expect(many >= .milliseconds(750) && many <= .seconds(1))
        }
    }
}
