/// Just enough identifier grammar for the auth rules: server names of user, room and
/// (version 1–2) event IDs, and the user ID shape checked in power levels and creators.
enum MatrixIDParts {
    /// Everything after the first `:`; nil when there is none.
    static func serverName(of id: String) -> String? {
        guard let colon = id.firstIndex(of: ":") else { return nil }
        let server = id[id.index(after: colon)...]
        return server.isEmpty ? nil : String(server)
    }

    /// `@localpart:server`, non-empty parts, at most 255 bytes. Historical user IDs
    /// allow almost any localpart character, so only the shape is checked.
    static func isValidUserID(_ id: String) -> Bool {
        guard id.utf8.count <= 255, id.first == "@", let colon = id.firstIndex(of: ":") else { return false }
        let localpart = id[id.index(after: id.startIndex)..<colon]
        return !localpart.isEmpty && serverName(of: id) != nil
    }
}
