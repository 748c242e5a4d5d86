/// Why an event failed the authorisation rules. `reason` is for code and tests;
/// `message` is for logs and the `error` field of a client response.
public struct AuthError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable {
        /// The create event breaks rule 1 (prev events, room ID, version, creator).
        case invalidCreateEvent
        /// No create event among the auth events, or the room ID does not derive from it.
        case missingCreateEvent
        /// An auth event belongs to another room.
        case wrongRoom
        /// `auth_events` has duplicates or entries the selection algorithm would not pick.
        case invalidAuthEvents
        /// The room is not federated and the sender is on another server.
        case federationForbidden
        /// The event lacks a field the rules need (state key, membership, ...).
        case malformedEvent
        case unknownMembership
        case senderNotJoined
        case senderBanned
        case targetBanned
        case targetAlreadyJoined
        /// A membership change made for someone else where only self-changes are allowed.
        case senderNotTarget
        /// The join rule does not let this user join.
        case joinNotAllowed
        /// A restricted join without a joined authorising user who may invite.
        case invalidAuthorisingUser
        /// The join rule does not allow knocking, or the user may not knock.
        case knockNotAllowed
        case leaveNotAllowed
        /// The third-party invite does not match a token or its signatures do not verify.
        case invalidThirdPartyInvite
        case insufficientPowerLevel
        /// A state key starting with `@` that is not the sender.
        case stateKeyNotSender
        /// A power levels content with malformed values.
        case invalidPowerLevels
        /// A power levels change beyond the sender's own power.
        case powerLevelChangeNotAllowed
        /// A room version 12 creator listed in power levels `users`.
        case creatorInPowerLevels
        /// A version 1–2 redaction neither by a redactor nor from the original server.
        case redactionNotAllowed
        /// Version 1–5 `m.room.aliases` whose state key is not the sender's server.
        case invalidAliases
    }

    public let reason: Reason
    public let message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}
