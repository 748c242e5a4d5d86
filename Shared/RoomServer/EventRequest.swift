import MatrixCore
import Storage

/// An event a local user wants to send; the room actor fills in the DAG fields.
public struct EventRequest: Sendable {
    public let sender: String
    public let type: String
    public let stateKey: String?
    public let content: JSON
    public let txn: TxnRef?
    /// Target of a redaction.
    public let redacts: String?
    /// Checked against the room's state just before the event is built (for example
    /// "the sender must be joined"), so the check and the write see the same state.
    public let precondition: (@Sendable (RoomState) throws -> Void)?
    /// Fixed timestamp, so a v12 create event's ID (and so the room ID) is known in advance.
    public let originServerTS: Int64?

    public init(sender: String, type: String, stateKey: String? = nil, content: JSON, txn: TxnRef? = nil,
                redacts: String? = nil, originServerTS: Int64? = nil,
                precondition: (@Sendable (RoomState) throws -> Void)? = nil) {
        self.originServerTS = originServerTS
        self.sender = sender
        self.type = type
        self.stateKey = stateKey
        self.content = content
        self.txn = txn
        self.redacts = redacts
        self.precondition = precondition
    }
}

/// What a successful send returns: the event and its committed stream position.
public struct EventResult: Sendable {
    public let event: Event
    public let streamPos: Int64
}

/// An event that was just committed, for notification and publishing.
public struct CommittedEvent: Sendable {
    public let event: Event
    public let streamPos: Int64
    /// Who was notified, for push delivery.
    public let pushActions: [PushActionRow]
}

/// Room state as the actor holds it, for preconditions.
public struct RoomState: Sendable {
    public let roomID: String
    public let version: RoomVersion
    public let state: StateMap
    /// Read off `state` already, where the actor had them.
    let facts: RoomFacts?

    public init(roomID: String, version: RoomVersion, state: StateMap, facts: RoomFacts? = nil) {
        (self.roomID, self.version, self.state, self.facts) = (roomID, version, state, facts)
    }

    public func membership(of user: String) -> String? { state[.member(user)]?.membership }
    public var powerLevels: PowerLevels { facts?.powerLevels ?? PowerLevels(state: state, roomVersion: version) }
    /// State keys of the joined members, in no particular order.
    public var joinedMembers: [String] { facts?.joined ?? RoomFacts.joined(in: state) }
    /// The display name a joined member set, if any.
    public func displayName(ofJoined user: String) -> String? {
        if let facts { return facts.displayNames[user] }
        return RoomFacts.displayName(state[.member(user)])
    }
}

public enum RoomServerError: Error, Sendable {
    case unknownRoom
    case forbidden(String)
    case invalid(String)
    /// Over the spec's 64 KiB per event, or a field over 255 bytes.
    case tooLarge(String)
    case conflict
}
