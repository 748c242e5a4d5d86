/// An event ID (spec appendix "Event IDs"): `$opaque:server` in room versions 1–2,
/// `$<reference hash>` in standard (v3) or URL-safe (v4+) unpadded Base64 after that.
public struct EventID: ParsedIdentifier {
    public let rawValue: String
    /// The part after `$` and before any `:server`.
    public let opaque: String
    /// Present only in room version 1–2 event IDs.
    public let server: ServerName?

    private init(rawValue: String, opaque: String, server: ServerName?) {
        self.rawValue = rawValue
        self.opaque = opaque
        self.server = server
    }

    public static func parse(_ string: String) throws(IdentifierError) -> EventID {
        let (opaque, server) = try IdentifierParts.opaqueWithOptionalServer(string, sigil: "$")
        return EventID(rawValue: string, opaque: opaque, server: server)
    }

    /// A new `$opaque:server` event ID for room versions 1 and 2, where IDs are not hashes.
    public static func generate(server: ServerName) -> EventID {
        let opaque = OpaqueID.generate(length: 18)
        return EventID(rawValue: "$\(opaque):\(server.rawValue)", opaque: opaque, server: server)
    }

    /// The event ID for a reference hash in the given format (v3 or v4); the v1 format is
    /// not derived from the event and has no hash form.
    static func fromReferenceHash(_ hash: [UInt8], format: RoomVersion.EventIDFormat) -> EventID? {
        let opaque: String
        switch format {
        case .v1: return nil
        case .v3: opaque = Base64.encodeUnpadded(hash)
        case .v4: opaque = Base64.encodeURLSafeUnpadded(hash)
        }
        return EventID(rawValue: "$" + opaque, opaque: opaque, server: nil)
    }

    /// Whether this ID has the shape a room version requires: a server part for v1,
    /// otherwise exactly a 32-byte hash in that version's Base64 alphabet.
    public func hasFormat(_ format: RoomVersion.EventIDFormat) -> Bool {
        switch format {
        case .v1:
            return server != nil
        case .v3:
            return server == nil && opaque.utf8.count == 43 && Base64.decode(opaque)?.count == 32
        case .v4:
            return server == nil && opaque.utf8.count == 43 && Base64.decodeURLSafe(opaque)?.count == 32
        }
    }
}
