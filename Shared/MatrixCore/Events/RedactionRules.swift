/// What the redaction algorithm keeps in each room version. Sources: rooms/v1.md (base),
/// v6.md (drops `m.room.aliases`), v8.md (join rules keep `allow`), v9.md (members keep
/// `join_authorised_via_users_server`), v11.md (the updated rules, also used by v12).
public struct RedactionRules: Sendable, Hashable {
    /// Top-level keys that survive redaction.
    public let keptTopLevelKeys: Set<String>
    /// v1–v5: `m.room.aliases` keeps `aliases`.
    public let keepsAliases: Bool
    /// v8+: `m.room.join_rules` keeps `allow`.
    public let keepsJoinRuleAllow: Bool
    /// v9+: `m.room.member` keeps `join_authorised_via_users_server`.
    public let keepsJoinAuthorisedVia: Bool
    /// v11+: create keeps all content, power levels keep `invite`, redactions keep
    /// `content.redacts`, members keep `third_party_invite.signed`.
    public let updatedRules: Bool

    private static let baseTopLevel: Set<String> = [
        "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
        "depth", "prev_events", "auth_events", "origin_server_ts",
    ]
    /// Dropped from the protected list in v11.
    private static let legacyTopLevel: Set<String> = ["prev_state", "origin", "membership"]

    public init(_ version: RoomVersion) {
        updatedRules = version.updatedRedactionRules
        keptTopLevelKeys = updatedRules ? Self.baseTopLevel : Self.baseTopLevel.union(Self.legacyTopLevel)
        keepsAliases = version.specialCaseAliasesAuth
        keepsJoinRuleAllow = version.restrictedJoinRuleSupported
        keepsJoinAuthorisedVia = version.number >= 9
    }

    /// The content keys kept for an event type, or nil when the whole content is kept.
    func keptContentKeys(forType type: String) -> Set<String>? {
        switch type {
        case "m.room.member":
            return keepsJoinAuthorisedVia ? ["membership", "join_authorised_via_users_server"] : ["membership"]
        case "m.room.create":
            return updatedRules ? nil : ["creator"]
        case "m.room.join_rules":
            return keepsJoinRuleAllow ? ["join_rule", "allow"] : ["join_rule"]
        case "m.room.power_levels":
            var keys: Set<String> = ["ban", "events", "events_default", "kick", "redact", "state_default",
                                     "users", "users_default"]
            if updatedRules { keys.insert("invite") }
            return keys
        case "m.room.aliases":
            return keepsAliases ? ["aliases"] : []
        case "m.room.history_visibility":
            return ["history_visibility"]
        case "m.room.redaction":
            return updatedRules ? ["redacts"] : []
        default:
            return []
        }
    }
}
