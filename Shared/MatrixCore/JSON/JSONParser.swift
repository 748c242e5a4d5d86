/// A strict RFC 8259 parser straight from UTF-8 bytes. It rejects what Matrix servers
/// must reject (duplicate keys are accepted, last wins, as most servers do) and bounds
/// nesting so hostile input cannot exhaust the stack.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

extension JSON {
    public static let maxDepth = 128

    public static func parse(_ bytes: some Collection<UInt8>) throws -> JSON {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buf in
            var p = Parser(buf: buf)
            p.skipWS()
            let v = try p.value(depth: 0)
            p.skipWS()
            if p.i != buf.count { throw p.error("trailing characters") }
            return v
        }
    }

    public static func parse(_ string: String) throws -> JSON {
        try parse(Array(string.utf8))
    }
}

private struct Parser {
    let buf: UnsafeBufferPointer<UInt8>
    var i = 0

    init(buf: UnsafeBufferPointer<UInt8>) { self.buf = buf }

    func error(_ m: String) -> JSONParseError { JSONParseError(message: m, offset: i) }

    mutating func skipWS() {
        while i < buf.count {
            let c = buf[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
        }
    }

    mutating func value(depth: Int) throws -> JSON {
        guard depth < JSON.maxDepth else { throw error("nesting too deep") }
        guard i < buf.count else { throw error("unexpected end") }
        switch buf[i] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character")
        }
    }

    mutating func literal(_ s: StaticString) throws {
        let n = s.utf8CodeUnitCount
        guard i + n <= buf.count else { throw error("unexpected end") }
        let p = s.utf8Start
        for k in 0..<n where buf[i + k] != p[k] { throw error("invalid literal") }
        i += n
    }

    mutating func object(depth: Int) throws -> JSON {
        i += 1
        var o: [String: JSON] = [:]
        skipWS()
        if i < buf.count, buf[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
        while true {
            skipWS()
            guard i < buf.count, buf[i] == UInt8(ascii: "\"") else { throw error("expected key") }
            let k = try string()
            skipWS()
            guard i < buf.count, buf[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
            i += 1
            skipWS()
            o[k] = try value(depth: depth + 1)
            skipWS()
            guard i < buf.count else { throw error("unexpected end") }
            if buf[i] == UInt8(ascii: ",") { i += 1; continue }
            if buf[i] == UInt8(ascii: "}") { i += 1; return .object(o) }
            throw error("expected ',' or '}'")
        }
    }

    mutating func array(depth: Int) throws -> JSON {
        i += 1
        var a: [JSON] = []
        skipWS()
        if i < buf.count, buf[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
        while true {
            skipWS()
            a.append(try value(depth: depth + 1))
            skipWS()
            guard i < buf.count else { throw error("unexpected end") }
            if buf[i] == UInt8(ascii: ",") { i += 1; continue }
            if buf[i] == UInt8(ascii: "]") { i += 1; return .array(a) }
            throw error("expected ',' or ']'")
        }
    }

    mutating func number() throws -> JSON {
        let start = i
        var isInt = true
        if buf[i] == UInt8(ascii: "-") { i += 1 }
        guard i < buf.count, isDigit(buf[i]) else { throw error("invalid number") }
        if buf[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < buf.count, isDigit(buf[i]) { i += 1 }
        }
        if i < buf.count, buf[i] == UInt8(ascii: ".") {
            isInt = false
            i += 1
            guard i < buf.count, isDigit(buf[i]) else { throw error("invalid number") }
            while i < buf.count, isDigit(buf[i]) { i += 1 }
        }
        if i < buf.count, buf[i] == UInt8(ascii: "e") || buf[i] == UInt8(ascii: "E") {
            isInt = false
            i += 1
            if i < buf.count, buf[i] == UInt8(ascii: "+") || buf[i] == UInt8(ascii: "-") { i += 1 }
            guard i < buf.count, isDigit(buf[i]) else { throw error("invalid number") }
            while i < buf.count, isDigit(buf[i]) { i += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<i]), as: UTF8.self)
        if isInt, let v = Int64(text) { return .int(v) }
        guard let d = Double(text), d.isFinite else { throw error("number out of range") }
        return .double(d)
    }

    func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    mutating func string() throws -> String {
        i += 1
        // Fast path: no escapes.
        let start = i
        while i < buf.count {
            let c = buf[i]
            if c == UInt8(ascii: "\"") {
                let s = UnsafeBufferPointer(rebasing: buf[start..<i])
                i += 1
                return try validated(s, at: start)
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw error("control character in string") }
            i += 1
        }
        var out = Array(UnsafeBufferPointer(rebasing: buf[start..<i]))
        while i < buf.count {
            let c = buf[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return try out.withUnsafeBufferPointer { try validated($0, at: start) }
            }
            if c < 0x20 { throw error("control character in string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < buf.count else { throw error("unexpected end") }
            let e = buf[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    guard i + 1 < buf.count, buf[i] == UInt8(ascii: "\\"), buf[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard low >= 0xDC00 && low < 0xE000 else { throw error("unpaired surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw error("unpaired surrogate")
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw error("invalid escape")
            }
        }
        throw error("unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= buf.count else { throw error("unexpected end") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = buf[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("invalid hex digit")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    func validated(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) throws -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw JSONParseError(message: "invalid UTF-8", offset: offset)
        }
        return s
    }
}
