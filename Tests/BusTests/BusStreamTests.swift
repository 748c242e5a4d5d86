import Bus
import Testing

@Suite struct BusStreamTests {
    // Other processes (and older releases during blue/green) read these exact names.
    @Test func streamNamesAreStable() {
        #expect(BusStream.events == "myelin:events")
        #expect(BusStream.edus == "myelin:edus")
        #expect(BusStream.notify == "myelin:notify")
        #expect(Set(BusStream.all).count == 3)
    }
}
