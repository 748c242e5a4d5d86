/// Percent-decoding of URL parts, byte by byte: Foundation's `removingPercentEncoding` goes
/// through NSString and showed up in request profiles for long query strings (filters).
public enum PercentEncoding {
    /// `text` with each `%XX` replaced by its byte (and `+` by a space, for query strings);
    /// nil when an escape is malformed.
    public static func decode(_ text: Substring, plusAsSpace: Bool = false) -> String? {
        var utf8 = text.utf8[...]
        guard utf8.contains(UInt8(ascii: "%")) || (plusAsSpace && utf8.contains(UInt8(ascii: "+"))) else { return String(text) }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        while let b = utf8.popFirst() {
            switch b {
            case UInt8(ascii: "+") where plusAsSpace:
                out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let hi = utf8.popFirst().flatMap(hexValue), let lo = utf8.popFirst().flatMap(hexValue) else { return nil }
                out.append(hi << 4 | lo)
            default:
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
