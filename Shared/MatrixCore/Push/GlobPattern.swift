/// The spec's glob-style matching (`*` any run, `?` exactly one character), case-insensitive.
/// Matching simulates the pattern as a small automaton over the value, so it is linear in the
/// value's length even for word-boundary searches over long message bodies.
public struct GlobPattern: Sendable, Hashable {
    private let tokens: [Token]
    /// The pattern's bytes, lowercased, when it is plain ASCII without `*` or `?` (an event
    /// type, a msgtype, a user ID): whole-value matches then compare bytes, not characters.
    private let asciiLiteral: [UInt8]?

    private enum Token: Sendable, Hashable {
        case any
        case one
        case literal(Character)
    }

    public init(_ pattern: String) {
        tokens = pattern.lowercased().map { c in
            switch c {
            case "*": .any
            case "?": .one
            default: .literal(c)
            }
        }
        asciiLiteral = Self.asciiLiteral(tokens)
    }

    /// A pattern in which `*` and `?` are ordinary characters (display names).
    public init(literal text: String) {
        tokens = text.lowercased().map { .literal($0) }
        asciiLiteral = Self.asciiLiteral(tokens)
    }

    private static func asciiLiteral(_ tokens: [Token]) -> [UInt8]? {
        var bytes: [UInt8] = []
        for t in tokens {
            guard case .literal(let c) = t, c.unicodeScalars.count == 1, let b = c.asciiValue else { return nil }
            bytes.append(b)
        }
        return bytes
    }

    /// True when the pattern matches the whole value.
    public func matches(_ value: String) -> Bool {
        // Only an ASCII value can be compared bytewise: some other characters lowercase to
        // ASCII (the Kelvin sign to "k"), so those take the general path.
        if let literal = asciiLiteral, let equal = Self.asciiEqualIgnoringCase(value, literal) { return equal }
        return run(Array(value.lowercased()), starts: { $0 == 0 }, ends: { $0 == $1 })
    }

    /// Whether `value` lowercased is `lowercased`; nil when `value` is not all ASCII.
    private static func asciiEqualIgnoringCase(_ value: String, _ lowercased: [UInt8]) -> Bool? {
        var equal = value.utf8.count == lowercased.count
        var i = 0
        for b in value.utf8 {
            guard b < 0x80 else { return nil }
            if equal {
                let l = b >= 0x41 && b <= 0x5A ? b + 0x20 : b
                equal = l == lowercased[i]
                i += 1
            }
        }
        return equal
    }

    /// True when the pattern matches some part of the value that starts and ends at a word
    /// boundary: the value's ends, or any character other than `[A-Za-z0-9_]`.
    public func matchesWords(_ value: String) -> Bool {
        matchesWords(lowercased: Array(value.lowercased()))
    }

    /// As above, over a value already lowercased and split into characters.
    public func matchesWords(lowercased chars: [Character]) -> Bool {
        run(chars,
                   starts: { i in i == 0 || !Self.isWordCharacter(chars[i - 1]) },
                   ends: { j, n in j == n || !Self.isWordCharacter(chars[j]) })
    }

    static func isWordCharacter(_ c: Character) -> Bool {
        guard c.unicodeScalars.count == 1, let s = c.unicodeScalars.first, s.isASCII else { return false }
        let v = s.value
        return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
    }

    /// Active states are "tokens matched so far". A match may start at any index where
    /// `starts` holds and is accepted at any index where `ends` holds.
    private func run(_ chars: [Character], starts: (Int) -> Bool, ends: (Int, Int) -> Bool) -> Bool {
        let m = tokens.count
        var active = [Bool](repeating: false, count: m + 1)
        var anyActive = false

        func close(_ states: inout [Bool]) {
            // `*` may match nothing: reaching it also reaches the token after it.
            for k in 0..<m where states[k] && tokens[k] == .any { states[k + 1] = true }
        }

        // Two state buffers, swapped each step, so a match allocates nothing per character.
        var next = [Bool](repeating: false, count: m + 1)
        for i in 0...chars.count {
            if starts(i) { active[0] = true; anyActive = true }
            guard anyActive else { continue }
            close(&active)
            if active[m], ends(i, chars.count) { return true }
            guard i < chars.count else { break }
            let c = chars[i]
            for k in 0...m { next[k] = false }
            anyActive = false
            for k in 0..<m where active[k] {
                switch tokens[k] {
                case .any: next[k] = true
                case .one: next[k + 1] = true
                case .literal(let l): if l == c { next[k + 1] = true }
                }
                anyActive = anyActive || next[k] || next[k + 1]
            }
            swap(&active, &next)
        }
        return false
    }
}
