/// Why a string is not a valid Matrix identifier.
public enum IdentifierError: Error, Sendable, Equatable {
    /// The string does not start with the identifier's sigil (`@`, `!`, `$`, `#`).
    case missingSigil(expected: Character)
    /// There is no `:server` part where the identifier requires one.
    case missingServerName
    case invalidServerName(String)
    /// The port is not 1–5 digits in the range 1–65535.
    case invalidPort(String)
    case invalidLocalpart(String)
    /// The identifier is longer than 255 bytes of UTF-8.
    case tooLong(bytes: Int)
}
