/// A DNS SRV record (RFC 2782).
public struct SRVRecord: Sendable, Equatable {
    public let priority: UInt16
    public let weight: UInt16
    public let port: UInt16
    /// Without the trailing dot.
    public let target: String
    public let ttl: UInt32

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: String, ttl: UInt32) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
        self.ttl = ttl
    }
}

/// Just enough of the DNS wire format (RFC 1035) to ask for SRV records and read the answer.
enum DNSMessage {
    static let typeSRV: UInt16 = 33
    static let classIN: UInt16 = 1

    enum Answer: Equatable {
        case records([SRVRecord])
        /// NXDOMAIN or no SRV data: the name has no such service.
        case noRecords
    }

    enum ParseError: Error, Equatable {
        case truncatedMessage
        case wrongID
        case notAResponse
        case serverFailure(UInt8)
        case badName
    }

    /// A recursive query for `name`'s SRV records.
    static func query(id: UInt16, name: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.append(contentsOf: be16(id))
        out.append(contentsOf: [0x01, 0x00]) // RD: recursion desired
        out.append(contentsOf: be16(1))      // one question
        out.append(contentsOf: [0, 0, 0, 0, 0, 0])
        for label in name.split(separator: ".", omittingEmptySubsequences: true) {
            let bytes = Array(label.utf8)
            guard (1...63).contains(bytes.count) else { return nil }
            out.append(UInt8(bytes.count))
            out.append(contentsOf: bytes)
        }
        out.append(0)
        guard out.count - 12 <= 255 else { return nil }
        out.append(contentsOf: be16(typeSRV))
        out.append(contentsOf: be16(classIN))
        return out
    }

    /// The SRV records in a response to query `id`.
    static func parse(_ m: [UInt8], id: UInt16) throws(ParseError) -> Answer {
        guard m.count >= 12 else { throw .truncatedMessage }
        guard read16(m, 0) == id else { throw .wrongID }
        guard m[2] & 0x80 != 0 else { throw .notAResponse }
        let rcode = m[3] & 0x0F
        if rcode == 3 { return .noRecords }
        guard rcode == 0 else { throw .serverFailure(rcode) }
        let questions = Int(read16(m, 4)), answers = Int(read16(m, 6))
        var i = 12
        for _ in 0..<questions {
            _ = try readName(m, &i)
            i += 4
            guard i <= m.count else { throw .truncatedMessage }
        }
        var records: [SRVRecord] = []
        for _ in 0..<answers {
            _ = try readName(m, &i)
            guard i + 10 <= m.count else { throw .truncatedMessage }
            let type = read16(m, i), cls = read16(m, i + 2)
            let ttl = UInt32(read16(m, i + 4)) << 16 | UInt32(read16(m, i + 6))
            let length = Int(read16(m, i + 8))
            i += 10
            guard i + length <= m.count else { throw .truncatedMessage }
            if type == typeSRV, cls == classIN, length >= 7 {
                var j = i + 6
                let target = try readName(m, &j)
                records.append(SRVRecord(priority: read16(m, i), weight: read16(m, i + 2), port: read16(m, i + 4),
                                         target: target, ttl: ttl))
            }
            i += length
        }
        // A lone "." target says the service is decidedly not offered here (RFC 2782).
        let usable = records.filter { !$0.target.isEmpty }
        return usable.isEmpty ? .noRecords : .records(usable)
    }

    /// A possibly compressed domain name starting at `i`; moves `i` past it.
    static func readName(_ m: [UInt8], _ i: inout Int) throws(ParseError) -> String {
        var labels: [String] = []
        var pos = i
        var jumped = false
        var jumps = 0
        while true {
            guard pos < m.count else { throw .truncatedMessage }
            let len = Int(m[pos])
            if len == 0 {
                pos += 1
                break
            }
            if len & 0xC0 == 0xC0 {
                guard pos + 1 < m.count else { throw .truncatedMessage }
                let target = (len & 0x3F) << 8 | Int(m[pos + 1])
                if !jumped { i = pos + 2 }
                jumped = true
                jumps += 1
                // A pointer loop would otherwise never end.
                guard jumps < 64, target < m.count else { throw .badName }
                pos = target
                continue
            }
            guard len & 0xC0 == 0 else { throw .badName }
            guard pos + 1 + len <= m.count else { throw .truncatedMessage }
            labels.append(String(decoding: m[(pos + 1)...(pos + len)], as: UTF8.self))
            pos += 1 + len
        }
        if !jumped { i = pos }
        return labels.joined(separator: ".")
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func read16(_ m: [UInt8], _ i: Int) -> UInt16 { UInt16(m[i]) << 8 | UInt16(m[i + 1]) }

    /// RFC 2782 selection order: lowest priority first; within a priority, a weighted
    /// random order.
    static func ordered(_ records: [SRVRecord], random: () -> Double = { Double.random(in: 0..<1) }) -> [SRVRecord] {
        var out: [SRVRecord] = []
        for priority in Set(records.map(\.priority)).sorted() {
            var group = records.filter { $0.priority == priority }
            while !group.isEmpty {
                let total = group.reduce(0) { $0 + Int($1.weight) }
                var pick = 0
                if total > 0 {
                    var r = random() * Double(total)
                    for (n, rec) in group.enumerated() {
                        r -= Double(rec.weight)
                        if r < 0 { pick = n; break }
                        pick = n
                    }
                }
                out.append(group.remove(at: pick))
            }
        }
        return out
    }
}
