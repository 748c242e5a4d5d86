/// Serialisation of `JSON`. `canonicalBytes` is the Matrix canonical form (keys sorted by
/// code point, no whitespace, minimal escapes, raw UTF-8) and is what signing and hashing use.
/// Responses use the same writer without sorting keys (`compactBytes`).
extension JSON {
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    public var canonicalString: String { String(decoding: canonicalBytes, as: UTF8.self) }

    /// The compact encoding with keys in no particular order: what a response body needs
    /// (a reader of a signed object canonicalises it again), without sorting every object.
    public var compactBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(into: &out, sortKeys: false)
        return out
    }

    /// Appends the canonical encoding. Floats are written in their shortest form (they are
    /// not canonical, but client bodies may carry them and must round-trip).
    public func write(into out: inout [UInt8]) { write(into: &out, sortKeys: true) }

    func write(into out: inout [UInt8], sortKeys: Bool) {
        switch self {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
        case .int(let v): out.append(contentsOf: String(v).utf8)
        case .double(let d):
            if d.rounded() == d, abs(d) < 9.007199254740992e15 {
                out.append(contentsOf: String(Int64(d)).utf8)
            } else {
                out.append(contentsOf: "\(d)".utf8)
            }
        case .string(let s): JSON.writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (n, v) in a.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                v.write(into: &out, sortKeys: sortKeys)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            func member(_ n: Int, _ k: String, _ v: JSON) {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                JSON.writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                v.write(into: &out, sortKeys: sortKeys)
            }
            if sortKeys {
                // UTF-8 byte order is code point order.
                for (n, kv) in o.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                    member(n, kv.key, kv.value)
                }
            } else {
                for (n, kv) in o.enumerated() { member(n, kv.key, kv.value) }
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Runs of bytes that need no escape are copied whole.
    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { buf in
            var run = 0
            for i in buf.indices {
                let c = buf[i]
                guard c == 0x22 || c == 0x5C || c < 0x20 else { continue }
                if run < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[run..<i])) }
                run = i + 1
                switch c {
                case 0x22: out.append(0x5C); out.append(0x22)
                case 0x5C: out.append(0x5C); out.append(0x5C)
                case 0x08: out.append(0x5C); out.append(UInt8(ascii: "b"))
                case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
                case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
                case 0x0C: out.append(0x5C); out.append(UInt8(ascii: "f"))
                case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
                default:
                    out.append(contentsOf: Array("\\u00".utf8))
                    out.append(hexDigits[Int(c >> 4)])
                    out.append(hexDigits[Int(c & 0xF)])
                }
            }
            if run < buf.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: buf[run...])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// True when every number is an integer inside the canonical range
    /// `[-(2^53)+1, 2^53-1]`: what strict canonical JSON room versions require.
    public var isStrictCanonical: Bool {
        switch self {
        case .double: return false
        case .int(let v): return v >= -9_007_199_254_740_991 && v <= 9_007_199_254_740_991
        case .array(let a): return a.allSatisfy(\.isStrictCanonical)
        case .object(let o): return o.values.allSatisfy(\.isStrictCanonical)
        default: return true
        }
    }
}
