/// A room alias, `#localpart:server` (spec appendix "Room Aliases"). The server is the one
/// to ask when resolving the alias.
public struct RoomAlias: ParsedIdentifier {
    public let rawValue: String
    public let localpart: String
    public let server: ServerName

    private init(rawValue: String, localpart: String, server: ServerName) {
        self.rawValue = rawValue
        self.localpart = localpart
        self.server = server
    }

    /// The localpart may hold any Unicode except `:` and NUL; an empty one names nothing.
    public static func parse(_ string: String) throws(IdentifierError) -> RoomAlias {
        let (localpart, server) = try IdentifierParts.split(string, sigil: "#")
        guard !localpart.isEmpty, IdentifierParts.isOpaqueLocalpart(localpart) else {
            throw .invalidLocalpart(String(localpart))
        }
        let serverName = try IdentifierParts.requiredServer(server)
        return RoomAlias(rawValue: string, localpart: String(localpart), server: serverName)
    }

    public init(localpart: String, server: ServerName) throws(IdentifierError) {
        self = try RoomAlias.parse("#\(localpart):\(server.rawValue)")
    }
}
