/// Builds request targets: every path segment and query value percent-encoded, so the
/// signed `uri` is byte for byte what goes on the wire.
public enum FederationPath {
    /// Percent-encodes all but RFC 3986 unreserved characters.
    public static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let unreserved = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
            if unreserved {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 0xF)]], as: UTF8.self)
            }
        }
        return out
    }

    /// `prefix` followed by the encoded segments, and the encoded query when there is one.
    public static func target(_ prefix: String, _ segments: [String] = [], query: [(String, String)] = []) -> String {
        var uri = prefix + segments.map { "/" + encode($0) }.joined()
        if !query.isEmpty {
            uri += "?" + query.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
        }
        return uri
    }
}
