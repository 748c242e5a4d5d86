/// What differs between room versions 1–12, as flags the algorithms read.
/// Sources: content/rooms/v1.md … v12.md and their fragments.
public struct RoomVersion: Sendable, Hashable {
    public enum EventIDFormat: Sendable { case v1 /* $opaque:server */, v3 /* $base64 */, v4 /* $urlsafe base64 */ }
    public enum StateResolution: Sendable { case v1, v2 }

    public let id: String
    public let eventIDFormat: EventIDFormat
    public let stateResolution: StateResolution
    /// v5+: enforce key validity period (server-server concern).
    public let enforceKeyValidity: Bool
    /// v6+: integers only in canonical range, no floats; notifications in power levels authorised.
    public let strictCanonicalJSON: Bool
    /// v6+: `m.room.aliases` no longer special in auth; notifications PL checked.
    public let specialCaseAliasesAuth: Bool
    /// v7+
    public let knockingSupported: Bool
    /// v8+
    public let restrictedJoinRuleSupported: Bool
    /// v10+
    public let knockRestrictedJoinRuleSupported: Bool
    /// v10+: power level values must be integers (not strings).
    public let integerPowerLevels: Bool
    /// v11+: redaction `redacts` moved into content; create event has no `creator`.
    public let updatedRedactionRules: Bool
    /// v11+: `redacts` key in content.
    public let redactsInContent: Bool
    /// v12+: room ID is derived from the create event's ID; no `m.room.create` in auth_events;
    /// creators (sender + additional_creators) have unlimited power.
    public let roomIDFromCreateEvent: Bool
    public let additionalCreators: Bool

    public var isStable: Bool { true }

    public static let v1 = RoomVersion(id: "1", format: .v1, res: .v1, from: 1)
    public static let v2 = RoomVersion(id: "2", format: .v1, res: .v2, from: 2)
    public static let v3 = RoomVersion(id: "3", format: .v3, res: .v2, from: 3)
    public static let v4 = RoomVersion(id: "4", format: .v4, res: .v2, from: 4)
    public static let v5 = RoomVersion(id: "5", format: .v4, res: .v2, from: 5)
    public static let v6 = RoomVersion(id: "6", format: .v4, res: .v2, from: 6)
    public static let v7 = RoomVersion(id: "7", format: .v4, res: .v2, from: 7)
    public static let v8 = RoomVersion(id: "8", format: .v4, res: .v2, from: 8)
    public static let v9 = RoomVersion(id: "9", format: .v4, res: .v2, from: 9)
    public static let v10 = RoomVersion(id: "10", format: .v4, res: .v2, from: 10)
    public static let v11 = RoomVersion(id: "11", format: .v4, res: .v2, from: 11)
    public static let v12 = RoomVersion(id: "12", format: .v4, res: .v2, from: 12)

    public static let all: [RoomVersion] = [.v1, .v2, .v3, .v4, .v5, .v6, .v7, .v8, .v9, .v10, .v11, .v12]
    public static let `default` = RoomVersion.v12

    public static func named(_ id: String) -> RoomVersion? { all.first { $0.id == id } }

    /// The version number, for "since version N" checks.
    public var number: Int { Int(id) ?? 0 }

    private init(id: String, format: EventIDFormat, res: StateResolution, from n: Int) {
        self.id = id
        self.eventIDFormat = format
        self.stateResolution = res
        self.enforceKeyValidity = n >= 5
        self.strictCanonicalJSON = n >= 6
        self.specialCaseAliasesAuth = n < 6
        self.knockingSupported = n >= 7
        self.restrictedJoinRuleSupported = n >= 8
        self.knockRestrictedJoinRuleSupported = n >= 10
        self.integerPowerLevels = n >= 10
        self.updatedRedactionRules = n >= 11
        self.redactsInContent = n >= 11
        self.roomIDFromCreateEvent = n >= 12
        self.additionalCreators = n >= 12
    }
}
