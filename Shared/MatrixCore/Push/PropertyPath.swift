/// A dot-separated path to an event property, e.g. `content.m\.relates_to.rel_type`.
/// A backslash escapes a literal dot or backslash in a name; any other backslash is literal.
public struct PropertyPath: Sendable, Hashable {
    public let components: [String]

    public init(_ path: String) {
        var parts: [String] = []
        var current = ""
        var chars = path.makeIterator()
        while let c = chars.next() {
            switch c {
            case "\\":
                guard let next = chars.next() else { current.append(c); break }
                if next == "." || next == "\\" {
                    current.append(next)
                } else {
                    current.append(c)
                    current.append(next)
                }
            case ".":
                parts.append(current)
                current = ""
            default:
                current.append(c)
            }
        }
        parts.append(current)
        components = parts
    }

    /// The value at this path, walking objects only; nil when any step is missing.
    public func value(in json: JSON) -> JSON? {
        var v = json
        for name in components {
            guard let next = v[name] else { return nil }
            v = next
        }
        return v
    }
}
