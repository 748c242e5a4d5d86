/// A room ID (spec appendix "Room IDs"): `!opaque:server` up to room version 11,
/// `!<create event reference hash>` with no server from room version 12.
public struct RoomID: ParsedIdentifier {
    public let rawValue: String
    /// The part after `!` and before any `:server`.
    public let opaque: String
    /// The creating server's name, absent in v12-style room IDs.
    public let server: ServerName?

    private init(rawValue: String, opaque: String, server: ServerName?) {
        self.rawValue = rawValue
        self.opaque = opaque
        self.server = server
    }

    public static func parse(_ string: String) throws(IdentifierError) -> RoomID {
        let (opaque, server) = try IdentifierParts.opaqueWithOptionalServer(string, sigil: "!")
        return RoomID(rawValue: string, opaque: opaque, server: server)
    }

    /// A new `!opaque:server` room ID, for room versions before 12.
    public static func generate(server: ServerName) -> RoomID {
        let opaque = OpaqueID.generate(length: 18)
        return RoomID(rawValue: "!\(opaque):\(server.rawValue)", opaque: opaque, server: server)
    }

    /// The room ID a room version 12 create event defines: its event ID with `!` for `$`.
    public init(createEventID: EventID) {
        self.init(rawValue: "!" + createEventID.rawValue.dropFirst(), opaque: createEventID.opaque,
                  server: createEventID.server)
    }

    /// True for v12-style IDs, which are the create event's reference hash.
    public var isCreateEventHash: Bool { server == nil }
}
