/// Base64 as Matrix uses it (spec appendix "Unpadded Base64"): encoders never pad;
/// decoders accept input with or without `=` padding, because the spec asks for
/// maximum interoperability. Standard and URL-safe alphabets are kept apart so a
/// v3 event ID is never mistaken for a v4 one.
public enum Base64 {
    public enum Alphabet: Sendable {
        /// RFC 4648 §4: `+` and `/`.
        case standard
        /// RFC 4648 §5: `-` and `_`. Event IDs from room version 4.
        case urlSafe
    }

    private static let standardChars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafeChars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Value of each byte in the alphabet, 0xFF when the byte is not part of it.
    private static let standardValues = valueTable(standardChars)
    private static let urlSafeValues = valueTable(urlSafeChars)

    private static func valueTable(_ chars: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, char) in chars.enumerated() { table[Int(char)] = UInt8(value) }
        return table
    }

    /// Unpadded standard Base64: signatures, hashes, keys, v3 event IDs.
    public static func encodeUnpadded(_ bytes: some Sequence<UInt8>) -> String {
        encode(Array(bytes), chars: standardChars)
    }

    /// Unpadded URL-safe Base64: event IDs from room version 4, v12 room IDs.
    public static func encodeURLSafeUnpadded(_ bytes: some Sequence<UInt8>) -> String {
        encode(Array(bytes), chars: urlSafeChars)
    }

    public static func encode(_ bytes: some Sequence<UInt8>, alphabet: Alphabet) -> String {
        encode(Array(bytes), chars: alphabet == .standard ? standardChars : urlSafeChars)
    }

    /// Decodes standard Base64, padded or not. Nil for characters outside the alphabet,
    /// misplaced padding, or an impossible length.
    public static func decode(_ string: String) -> [UInt8]? {
        decode(string, values: standardValues)
    }

    /// Decodes URL-safe Base64, padded or not.
    public static func decodeURLSafe(_ string: String) -> [UInt8]? {
        decode(string, values: urlSafeValues)
    }

    public static func decode(_ string: String, alphabet: Alphabet) -> [UInt8]? {
        decode(string, values: alphabet == .standard ? standardValues : urlSafeValues)
    }

    private static func encode(_ input: [UInt8], chars: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((input.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(chars[Int(n >> 18 & 63)])
            out.append(chars[Int(n >> 12 & 63)])
            out.append(chars[Int(n >> 6 & 63)])
            out.append(chars[Int(n & 63)])
            i += 3
        }
        switch input.count - i {
        case 1:
            let n = UInt32(input[i]) << 16
            out.append(chars[Int(n >> 18 & 63)])
            out.append(chars[Int(n >> 12 & 63)])
        case 2:
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out.append(chars[Int(n >> 18 & 63)])
            out.append(chars[Int(n >> 12 & 63)])
            out.append(chars[Int(n >> 6 & 63)])
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func decode(_ string: String, values: [UInt8]) -> [UInt8]? {
        var input = Array(string.utf8)
        // Padding, when present, must bring the length to a multiple of four.
        var padding = 0
        while let last = input.last, last == UInt8(ascii: "=") {
            input.removeLast()
            padding += 1
        }
        if padding > 2 { return nil }
        if padding > 0, (input.count + padding) % 4 != 0 { return nil }
        // One leftover character cannot encode a whole byte.
        if input.count % 4 == 1 { return nil }

        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for char in input {
            let value = values[Int(char)]
            if value == 0xFF { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return out
    }
}
