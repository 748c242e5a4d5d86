@testable import FederationClient
import Testing

@Suite struct DNSMessageTests {
    @Test func queryIsAnSRVQuestion() throws {
        let q = try #require(DNSMessage.query(id: 0xBEEF, name: "_matrix-fed._tcp.example.org"))
        #expect(Array(q[0..<12]) == [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])
        let name: [UInt8] = [11] + Array("_matrix-fed".utf8) + [4] + Array("_tcp".utf8) + [7] + Array("example".utf8)
            + [3] + Array("org".utf8) + [0]
        #expect(Array(q[12..<(12 + name.count)]) == name)
        #expect(Array(q.suffix(4)) == [0, 33, 0, 1])
        #expect(DNSMessage.query(id: 1, name: String(repeating: "a", count: 64) + ".org") == nil)
    }

    /// A response as a nameserver sends it: the question, then two SRV answers whose owner
    /// names point back at the question (compression) and whose targets are spelled out.
    func response(id: UInt16, rcode: UInt8 = 0) -> [UInt8] {
        let q = DNSMessage.query(id: id, name: "_matrix-fed._tcp.example.org")!
        var m = Array(q[0..<2]) + [0x81, 0x80 | rcode] + [0, 1, 0, 2, 0, 0, 0, 0] + Array(q[12...])
        func answer(priority: UInt16, weight: UInt16, port: UInt16, target: String) -> [UInt8] {
            var rdata = DNSMessage.be16(priority) + DNSMessage.be16(weight) + DNSMessage.be16(port)
            for l in target.split(separator: ".") { rdata += [UInt8(l.utf8.count)] + Array(l.utf8) }
            rdata += [0]
            return [0xC0, 12] + [0, 33, 0, 1] + [0, 0, 0x0E, 0x10] + DNSMessage.be16(UInt16(rdata.count)) + rdata
        }
        m += answer(priority: 10, weight: 5, port: 8449, target: "b.example.org")
        m += answer(priority: 5, weight: 0, port: 443, target: "a.example.org")
        return m
    }

    @Test func parsesAnswersWithCompressedNames() throws {
        let a = try DNSMessage.parse(response(id: 7), id: 7)
        guard case .records(let records) = a else { Issue.record("no records: \(a)"); return }
        #expect(records.count == 2)
        #expect(records[0] == SRVRecord(priority: 10, weight: 5, port: 8449, target: "b.example.org", ttl: 3600))
        #expect(DNSMessage.ordered(records).map(\.target) == ["a.example.org", "b.example.org"])
    }

    @Test func nxdomainMeansNoRecords() throws {
        #expect(try DNSMessage.parse(response(id: 7, rcode: 3), id: 7) == .noRecords)
    }

    @Test func rejectsForeignAndBrokenMessages() {
        #expect(throws: DNSMessage.ParseError.wrongID) { try DNSMessage.parse(response(id: 7), id: 8) }
        #expect(throws: DNSMessage.ParseError.serverFailure(2)) { try DNSMessage.parse(response(id: 7, rcode: 2), id: 7) }
        #expect(throws: DNSMessage.ParseError.truncatedMessage) { try DNSMessage.parse(Array(response(id: 7).prefix(40)), id: 7) }
        // A name that points at itself must not loop.
        var looping = response(id: 7)
        looping[12] = 0xC0
        looping[13] = 12
        #expect(throws: DNSMessage.ParseError.badName) { try DNSMessage.parse(looping, id: 7) }
    }

    @Test func truncatedInputNeverCrashes() {
        let full = response(id: 9)
        for n in 0..<full.count { _ = try? DNSMessage.parse(Array(full.prefix(n)), id: 9) }
        for _ in 0..<500 {
            var m = full
            m[Int.random(in: 12..<m.count)] = UInt8.random(in: 0...255)
            _ = try? DNSMessage.parse(m, id: 9)
        }
    }

    @Test func weightedOrderWithinAPriority() {
        let rs = [SRVRecord(priority: 1, weight: 1, port: 1, target: "light", ttl: 0),
                  SRVRecord(priority: 1, weight: 99, port: 2, target: "heavy", ttl: 0),
                  SRVRecord(priority: 0, weight: 0, port: 3, target: "first", ttl: 0)]
        #expect(DNSMessage.ordered(rs, random: { 0.5 }).map(\.target) == ["first", "heavy", "light"])
        #expect(DNSMessage.ordered(rs, random: { 0.0 }).map(\.target) == ["first", "light", "heavy"])
    }
}
