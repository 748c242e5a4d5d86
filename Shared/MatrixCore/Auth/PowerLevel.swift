/// A user's power in a room. From room version 12 the room creators have unlimited
/// power, which no integer can express, so power is finite or infinite.
public enum PowerLevel: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    // Case order matters: the synthesised `<` ranks every finite level below `.infinite`.
    case finite(Int64)
    case infinite

    public init(integerLiteral value: Int64) { self = .finite(value) }
    public init(_ value: Int64) { self = .finite(value) }

    /// The integer level, or nil for a creator's unlimited power.
    public var finiteValue: Int64? {
        if case .finite(let v) = self { return v }
        return nil
    }

    /// True when this power meets a required integer level.
    public func isAtLeast(_ required: Int64) -> Bool { self >= .finite(required) }

    public var description: String {
        switch self {
        case .finite(let v): return String(v)
        case .infinite: return "infinite"
        }
    }
}
