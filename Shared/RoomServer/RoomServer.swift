import Foundation
import Logging
import MatrixCore
import Storage

/// Shared parts every room actor uses.
final class RoomServerCore: Sendable {
    let store: EventStore
    let persister: EventPersister
    let serverName: ServerName
    let signingKey: SigningKey
    let logger: Logger
    let onCommit: @Sendable ([CommittedEvent]) -> Void
    let pushActions: PushActionsProvider

    init(store: EventStore, serverName: ServerName, signingKey: SigningKey, logger: Logger,
         onCommit: @escaping @Sendable ([CommittedEvent]) -> Void,
         pushActions: @escaping PushActionsProvider) {
        self.store = store
        self.persister = EventPersister(store: store)
        self.serverName = serverName
        self.signingKey = signingKey
        self.logger = logger
        self.onCommit = onCommit
        self.pushActions = pushActions
    }

    func builder(_ v: RoomVersion) -> EventBuilder { EventBuilder(roomVersion: v, serverName: serverName, signingKey: signingKey) }
    func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// Who an event notifies and how, given the room state right after it: called for every
/// event before it is persisted, so its rows commit with it.
public typealias PushActionsProvider = @Sendable (Event, RoomState) async throws -> [PushActionRow]

/// The one path every local event takes: build → authorise → persist → notify.
public final class RoomServer: Sendable {
    let core: RoomServerCore
    private let registry = RoomRegistry()

    public init(store: EventStore, serverName: ServerName, signingKey: SigningKey, logger: Logger,
                onCommit: @escaping @Sendable ([CommittedEvent]) -> Void,
                pushActions: @escaping PushActionsProvider = { _, _ in [] }) {
        core = RoomServerCore(store: store, serverName: serverName, signingKey: signingKey, logger: logger,
                              onCommit: onCommit, pushActions: pushActions)
    }

    public var serverName: ServerName { core.serverName }

    /// Sends one event into an existing room.
    public func send(roomID: String, _ request: EventRequest) async throws -> EventResult {
        try await registry.actor(roomID, core).submit(request)
    }

    /// The room's current state as the writer sees it.
    public func state(roomID: String) async throws -> RoomState {
        try await registry.actor(roomID, core).cachedState()
    }

    /// Creates a room: the create event and every initial event commit in one transaction.
    /// Returns the room ID and the results in order (create event first).
    public func createRoom(version: RoomVersion, creator: String, createContent: JSON,
                           initialEvents: [EventRequest]) async throws -> (String, [EventResult]) {
        let ts = core.now()
        let create = EventRequest(sender: creator, type: "m.room.create", stateKey: "", content: createContent, originServerTS: ts)
        let roomID: String
        if version.roomIDFromCreateEvent {
            // The room ID is the create event's hash, so build the create event once to learn it.
            let json: JSON = [
                "type": "m.room.create", "sender": .string(creator), "state_key": "", "content": createContent,
                "origin_server_ts": .int(ts), "depth": 1, "prev_events": [], "auth_events": [],
            ]
            let ev = try core.builder(version).finalize(json)
            guard let id = ev.json.createdRoomID(for: version) else { throw RoomServerError.invalid("cannot derive room ID") }
            roomID = id.rawValue
        } else {
            roomID = RoomID.generate(server: core.serverName).rawValue
        }
        let actor = await registry.newActor(roomID, core, version: version)
        do {
            let results = try await actor.submitAtomically([create] + initialEvents, creator: creator)
            return (roomID, results)
        } catch {
            await registry.drop(roomID)
            throw error
        }
    }
}

/// One actor per active room in this process.
actor RoomRegistry {
    private var actors: [String: RoomActor] = [:]

    func actor(_ roomID: String, _ core: RoomServerCore) -> RoomActor {
        if let a = actors[roomID] { return a }
        let a = RoomActor(roomID: roomID, server: core)
        actors[roomID] = a
        return a
    }

    func newActor(_ roomID: String, _ core: RoomServerCore, version: RoomVersion) async -> RoomActor {
        let a = RoomActor(roomID: roomID, server: core)
        await a.seedNew(version: version)
        actors[roomID] = a
        return a
    }

    func drop(_ roomID: String) { actors[roomID] = nil }
}
