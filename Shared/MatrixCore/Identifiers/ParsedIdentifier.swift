/// What every identifier type shares: it is parsed from its string form (throwing a precise
/// `IdentifierError`), converts back to it, and has a failable initialiser for quick checks.
public protocol ParsedIdentifier: Sendable, Hashable, LosslessStringConvertible {
    var rawValue: String { get }
    static func parse(_ string: String) throws(IdentifierError) -> Self
}

extension ParsedIdentifier {
    public init?(_ string: String) {
        guard let parsed = try? Self.parse(string) else { return nil }
        self = parsed
    }

    public var description: String { rawValue }
}
