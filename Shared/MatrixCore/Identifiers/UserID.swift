/// A Matrix user ID, `@localpart:server` (spec appendix "User Identifiers").
///
/// Parsing accepts historical localparts (anything but `:` and NUL, even empty), because
/// rooms contain events from such users and must stay readable. New accounts must use the
/// strict grammar; see `forNewAccount(localpart:server:)`.
public struct UserID: ParsedIdentifier {
    public let rawValue: String
    public let localpart: String
    public let server: ServerName

    private init(rawValue: String, localpart: String, server: ServerName) {
        self.rawValue = rawValue
        self.localpart = localpart
        self.server = server
    }

    public static func parse(_ string: String) throws(IdentifierError) -> UserID {
        let (localpart, server) = try IdentifierParts.split(string, sigil: "@")
        guard IdentifierParts.isOpaqueLocalpart(localpart) else { throw .invalidLocalpart(String(localpart)) }
        let serverName = try IdentifierParts.requiredServer(server)
        return UserID(rawValue: string, localpart: String(localpart), server: serverName)
    }

    /// A user ID for registering a new local account: the localpart must follow the current
    /// grammar (`a-z 0-9 . _ = - / +`, non-empty) and the whole ID must fit in 255 bytes.
    public static func forNewAccount(localpart: String, server: ServerName) throws(IdentifierError) -> UserID {
        guard isValidStrictLocalpart(localpart) else { throw .invalidLocalpart(localpart) }
        let raw = "@\(localpart):\(server.rawValue)"
        guard raw.utf8.count <= IdentifierParts.maxBytes else { throw .tooLong(bytes: raw.utf8.count) }
        return UserID(rawValue: raw, localpart: localpart, server: server)
    }

    /// The localpart uses characters outside the current grammar: tolerated in existing
    /// rooms, never created anew.
    public var isHistorical: Bool { !UserID.isValidStrictLocalpart(localpart) }

    /// The spec calls localparts outside U+0021–U+007E, or empty, non-compliant: such IDs are
    /// accepted in events but should not be forwarded to clients outside an event.
    public var isCompliant: Bool {
        !localpart.isEmpty && localpart.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) }
    }

    /// `user_id_localpart = 1*user_id_char` with `a-z`, `0-9`, `-`, `.`, `=`, `_`, `/`, `+`.
    public static func isValidStrictLocalpart(_ localpart: String) -> Bool {
        !localpart.isEmpty && localpart.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
                || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "=")
                || c == UInt8(ascii: "_") || c == UInt8(ascii: "/") || c == UInt8(ascii: "+")
        }
    }
}
