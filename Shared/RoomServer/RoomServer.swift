import Foundation
import Logging
import MatrixCore
import Storage

/// Shared parts every room actor uses.
final class RoomServerCore: Sendable {
    let store: EventStore
    let inbox: FederationInboxStore
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
        self.inbox = FederationInboxStore(store: store)
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

/// Who each event notifies and how, given the room state right after it: called for every
/// batch of events before it is persisted, so the rows commit with them. One call per batch,
/// so per-user settings are read once for all of its events.
public typealias PushActionsProvider = @Sendable ([(Event, RoomState)]) async throws -> [PushOutcome]

/// The one path every local event takes: build → authorise → persist → notify.
public final class RoomServer: Sendable {
    let core: RoomServerCore
    let registry = RoomRegistry()

    public init(store: EventStore, serverName: ServerName, signingKey: SigningKey, logger: Logger,
                onCommit: @escaping @Sendable ([CommittedEvent]) -> Void,
                pushActions: @escaping PushActionsProvider = { $0.map { _ in .none } }) {
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
        // A v12 room ID is the hash of its create event, so two rooms created by one user with
        // the same content in the same millisecond would get one ID: timestamps handed out
        // here never repeat in this process, and a clash with another process (the room row
        // exists already) retries with a later one.
        for _ in 0..<5 {
            let ts = await createClock.next(core.now())
            let create = EventRequest(sender: creator, type: "m.room.create", stateKey: "", content: createContent, originServerTS: ts)
            let roomID: String
            if version.roomIDFromCreateEvent {
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
            guard let actor = await registry.newActor(roomID, core, version: version) else { continue }
            do {
                let results = try await actor.submitAtomically([create] + initialEvents, creator: creator)
                return (roomID, results)
            } catch RoomServerError.conflict {
                await registry.drop(roomID, ifSame: actor)
                continue
            } catch {
                await registry.drop(roomID, ifSame: actor)
                throw error
            }
        }
        throw RoomServerError.conflict
    }

    private let createClock = CreateClock()
}

/// Strictly increasing millisecond timestamps for create events.
actor CreateClock {
    private var last: Int64 = 0
    func next(_ now: Int64) -> Int64 {
        last = max(now, last + 1)
        return last
    }
}

/// One actor per active room in this process. Rooms idle for a while are forgotten so
/// memory follows the active rooms, not every room ever written; a forgotten room's next
/// write reloads its state (the stale check keeps a still-running old actor harmless).
actor RoomRegistry {
    private var actors: [String: (actor: RoomActor, used: ContinuousClock.Instant)] = [:]
    private var lastSweep = ContinuousClock.now
    static let idleLimit = Duration.seconds(600)

    func actor(_ roomID: String, _ core: RoomServerCore) -> RoomActor {
        let now = ContinuousClock.now
        sweep(now)
        if let entry = actors[roomID] {
            actors[roomID] = (entry.actor, now)
            return entry.actor
        }
        let a = RoomActor(roomID: roomID, server: core)
        actors[roomID] = (a, now)
        return a
    }

    /// A fresh actor for a room being created; nil if this process already has that room.
    func newActor(_ roomID: String, _ core: RoomServerCore, version: RoomVersion) async -> RoomActor? {
        guard actors[roomID] == nil else { return nil }
        let a = RoomActor(roomID: roomID, server: core)
        actors[roomID] = (a, ContinuousClock.now)
        await a.seedNew(version: version)
        return a
    }

    /// Forgets a room's actor, unless it has since been replaced by another one.
    func drop(_ roomID: String, ifSame actor: RoomActor) {
        if actors[roomID]?.actor === actor { actors[roomID] = nil }
    }

    var count: Int { actors.count }

    private func sweep(_ now: ContinuousClock.Instant) {
        guard now - lastSweep > .seconds(60) else { return }
        lastSweep = now
        actors = actors.filter { now - $0.value.used < Self.idleLimit }
    }
}

/// Federation entry points: every event another server sends, and every membership
/// handshake, goes through the room's actor like a local send.
extension RoomServer {
    /// Checks an event from another server against the room (its signatures and hashes
    /// were checked by the caller) and stores it when it passes.
    /// `gapState`: the state before it, from another server, when its prev events are unknown.
    public func receive(roomID: String, event: Event, gapState: StateMap? = nil) async throws -> RemoteEventOutcome {
        try await registry.actor(roomID, core).exclusively { try await $0.processRemote(event, gapState: gapState) }
    }

    /// Stores checked auth events of other servers' events, out of timeline and state.
    public func storeOutliers(roomID: String, events: [Event]) async throws {
        try await registry.actor(roomID, core).exclusively { try await $0.storeOutliers(events) }
    }

    /// The unsigned event another server finishes for `make_join` / `make_leave`.
    public func template(roomID: String, _ request: EventRequest) async throws -> (JSON, RoomVersion) {
        try await registry.actor(roomID, core).exclusively { try await $0.template(request) }
    }

    /// Stores a room joined through another server, with its state and auth chain.
    public func importJoin(roomID: String, version: RoomVersion, join: Event, state: [Event],
                           authChain: [Event]) async throws -> EventResult {
        try await registry.actor(roomID, core).exclusively {
            try await $0.importJoin(version: version, join: join, state: state, authChain: authChain)
        }
    }

    /// Stores a membership of a local user in a room this server is not in.
    public func storeMembershipOutsideRoom(roomID: String, version: RoomVersion, event: Event) async throws -> EventResult {
        try await registry.actor(roomID, core).exclusively { try await $0.storeMembershipOutsideRoom(version: version, event: event) }
    }

    /// Builds and signs an event without storing it, for handshakes that need another
    /// server's signature first (invites of their users).
    public func prepare(roomID: String, _ request: EventRequest) async throws -> (Event, RoomVersion) {
        let (json, version) = try await template(roomID: roomID, request)
        var fields = json.objectValue ?? [:]
        fields["origin"] = nil
        do {
            return (try core.builder(version).finalize(.object(fields)), version)
        } catch {
            throw RoomServerError.invalid("event is not valid for room version \(version.id): \(error)")
        }
    }
}
