/// IP literal grammar for server names: dotted-quad IPv4 and RFC 3513 §2.2 IPv6 text forms.
enum IPAddressGrammar {
    /// Four dot-separated groups of 1–3 digits, before the 0–255 range check.
    static func looksLikeDottedQuad(_ bytes: ArraySlice<UInt8>) -> Bool {
        let groups = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return groups.count == 4 && groups.allSatisfy { g in
            (1...3).contains(g.count) && g.allSatisfy(isDigit)
        }
    }

    /// Four decimal numbers 0–255 separated by dots.
    static func isIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard looksLikeDottedQuad(bytes) else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { g in
            g.reduce(0) { $0 * 10 + Int($1 - 0x30) } <= 255
        }
    }

    /// Eight groups of 1–4 hex digits, at most one `::` standing for one or more zero groups,
    /// and optionally a dotted-quad IPv4 address in place of the last two groups.
    static func isIPv6(_ bytes: ArraySlice<UInt8>) -> Bool {
        // The server name grammar bounds the literal at 2–45 characters.
        guard (2...45).contains(bytes.count) else { return false }
        let text = Array(bytes)
        var doubleColon: Int?
        var i = 0
        while i + 1 < text.count {
            if text[i] == UInt8(ascii: ":"), text[i + 1] == UInt8(ascii: ":") {
                if doubleColon != nil { return false }
                doubleColon = i
                i += 2
            } else {
                i += 1
            }
        }

        var groupCount = 0
        func countGroups(_ part: ArraySlice<UInt8>, allowIPv4Tail: Bool) -> Bool {
            if part.isEmpty { return true }
            let groups = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            for (n, group) in groups.enumerated() {
                if allowIPv4Tail, n == groups.count - 1, group.contains(UInt8(ascii: ".")) {
                    guard isIPv4(group) else { return false }
                    groupCount += 2
                } else {
                    guard (1...4).contains(group.count), group.allSatisfy(isHexDigit) else { return false }
                    groupCount += 1
                }
            }
            return true
        }

        if let dc = doubleColon {
            let head = text[..<dc]
            let tail = text[(dc + 2)...]
            guard countGroups(head, allowIPv4Tail: false), countGroups(tail, allowIPv4Tail: true) else { return false }
            return groupCount <= 7
        }
        guard countGroups(text[...], allowIPv4Tail: true) else { return false }
        return groupCount == 8
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
}
