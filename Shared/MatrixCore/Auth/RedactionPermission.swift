extension AuthRules {
    /// Whether a server should apply an authorised redaction to the event it targets
    /// ("Handling redactions"): from version 3, when the redacter has the redact level or
    /// is on the original sender's server. Versions 1–2 decided this in the auth rules
    /// (redact level, or the event IDs' servers), which is repeated here so callers need
    /// not care about the version.
    public static func mayApplyRedaction(
        _ redaction: Event, to target: Event, powerLevels: PowerLevels, roomVersion: RoomVersion
    ) -> Bool {
        if powerLevels.user(redaction.sender, hasAtLeast: powerLevels.redact) { return true }
        if roomVersion.redactionsInAuthRules {
            return MatrixIDParts.serverName(of: target.eventID) == MatrixIDParts.serverName(of: redaction.eventID)
        }
        return MatrixIDParts.serverName(of: redaction.sender) == MatrixIDParts.serverName(of: target.sender)
    }
}
