/// The common identifier format, `&localpart[:domain]` (spec appendix "Common Identifier
/// Format"): shared splitting and limits for user IDs, room IDs, aliases and event IDs.
enum IdentifierParts {
    /// Every sigilled identifier is limited to 255 bytes, sigil and domain included.
    static let maxBytes = 255

    /// Splits after the sigil at the first `:`; localparts never contain one, server names may.
    /// Works on Unicode scalars rather than Characters, so a historical localpart that begins with a
    /// combining mark cannot merge with the sigil or the colon.
    static func split(_ string: String, sigil: Character) throws(IdentifierError) -> (localpart: Substring, server: Substring?) {
        let utf8 = string.utf8
        guard let sigilByte = sigil.asciiValue, utf8.first == sigilByte else { throw .missingSigil(expected: sigil) }
        guard utf8.count <= maxBytes else { throw .tooLong(bytes: utf8.count) }
        // Slicing the scalar view: String's own subscript would round to Character boundaries.
        let scalars = string.unicodeScalars
        let bodyStart = scalars.index(after: scalars.startIndex)
        guard let colon = scalars[bodyStart...].firstIndex(of: ":") else {
            return (Substring(scalars[bodyStart...]), nil)
        }
        return (Substring(scalars[bodyStart..<colon]), Substring(scalars[scalars.index(after: colon)...]))
    }

    /// Room and event IDs: an opaque part and, depending on the room version, a server.
    static func opaqueWithOptionalServer(_ string: String, sigil: Character) throws(IdentifierError) -> (String, ServerName?) {
        let (opaque, server) = try split(string, sigil: sigil)
        guard !opaque.isEmpty, isOpaqueLocalpart(opaque) else { throw .invalidLocalpart(String(opaque)) }
        let serverName = try server.map { (s: Substring) throws(IdentifierError) in try ServerName.parse(String(s)) }
        return (String(opaque), serverName)
    }

    /// Parses the domain part, which is required for this identifier.
    static func requiredServer(_ server: Substring?) throws(IdentifierError) -> ServerName {
        guard let server else { throw .missingServerName }
        return try ServerName.parse(String(server))
    }

    /// The historical localpart rule shared by user IDs, room IDs and aliases: any Unicode
    /// scalar except `:` and NUL (Swift strings cannot hold lone surrogates).
    static func isOpaqueLocalpart(_ localpart: Substring) -> Bool {
        !localpart.unicodeScalars.contains { $0 == ":" || $0 == "\u{0}" }
    }
}
