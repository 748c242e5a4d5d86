import Bus
import FederationClient
import Foundation
import Logging
import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Everything the client API's handlers share. Built once per process.
public final class ClientAPI: Sendable {
    public let config: ServerConfig
    public let db: Database
    public let accounts: AccountStore
    public let events: EventStore
    public let rooms: RoomsStore
    public let userData: UserDataStore
    public let notifier: Notifier
    public let limiter: RateLimiter
    public let logger: Logger
    public let serverName: ServerName
    public let signingKey: SigningKey
    /// Outbound requests to other servers, and their signing keys.
    public let federation: FederationClient
    let federationAuth: RequestAuthenticator
    let peerLiveness: PeerLiveness
    let publisher: BusBridge
    let roomVersionCache = RoomVersionCache()
    let syncFilters = SyncFilterCache()
    let inboundTransactions = InboundTransactionGate()
    let presenceTouches = PresenceTouches()
    /// Timeline and history-visibility reads that the syncs one message wakes share.
    let sharedReads: SharedReads
    /// The probes and unread counts of woken syncs, one statement for those that come together.
    let syncBatches: SyncReadBatches
    // Set once in init; the room server calls back into this object after commits.
    nonisolated(unsafe) private(set) var roomServer: RoomServer!

    public init(config: ServerConfig, db: Database, signingKey: SigningKey, publisher: BusBridge, logger: Logger) throws {
        guard let sn = ServerName(config.serverName) else {
            throw MatrixError.invalidParam("MYELIN_SERVER_NAME is not a valid server name")
        }
        self.config = config
        self.db = db
        self.accounts = AccountStore(db: db)
        self.events = EventStore(db: db)
        self.sharedReads = SharedReads(events: events)
        self.rooms = RoomsStore(db: db)
        self.userData = UserDataStore(db: db)
        self.syncBatches = SyncReadBatches(userData: userData)
        self.notifier = Notifier()
        self.limiter = RateLimiter(perSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst)
        self.logger = logger
        self.serverName = sn
        self.signingKey = signingKey
        self.publisher = publisher
        self.federation = FederationClient(
            origin: sn, signingKey: signingKey, config: FederationClientConfig(verifyTLS: config.federationVerifyTLS),
            keyStore: ServerKeyStore(db: db), logger: logger)
        self.federationAuth = RequestAuthenticator(serverName: sn, keys: federation.keys)
        self.peerLiveness = PeerLiveness(federation: federation, publisher: publisher)
        db.tokenCache.setRevocationListener { user in publisher.publishTokensRevoked(user) }
        let notifier = self.notifier
        let pushEvaluator = PushEvaluator(store: PushRuleStore(db: db), serverName: sn)
        let events = self.events
        let pushDelivery = PushDelivery(db: db, logger: logger)
        self.roomServer = RoomServer(
            store: events, serverName: sn, signingKey: signingKey, logger: logger,
            onCommit: { committed in
                // Wake this process's long-polls at once (one task for the whole commit); other
                // processes hear it through Redis.
                let notices = committed.map { c in
                    StreamNotice(pos: c.streamPos, rooms: [c.event.roomID],
                                 users: c.event.type == "m.room.member" ? [c.event.stateKey ?? ""] : [])
                }
                Task { for n in notices { await notifier.notify(n) } }
                for c in committed { publisher.publishEvent(c) }
                pushDelivery.deliver(committed)
            },
            pushActions: { batch in try await pushEvaluator.actions(for: batch) })
    }

    /// Wakes local waiters and tells other processes about a non-event stream advance.
    public func announce(_ notice: StreamNotice) {
        Task { await notifier.notify(notice) }
        publisher.publishNotice(notice)
    }

    public func routes() -> RouteTable {
        var t = RouteTable()
        t.merge(discoveryRoutes())
        t.merge(authRoutes())
        t.merge(accountRoutes())
        t.merge(profileRoutes())
        t.merge(deviceRoutes())
        t.merge(roomRoutes())
        t.merge(membershipRoutes())
        t.merge(messageRoutes())
        t.merge(syncRoutes())
        t.merge(slidingSyncRoutes())
        t.merge(ephemeralRoutes())
        t.merge(accountDataRoutes())
        t.merge(pushRuleRoutes())
        t.merge(directoryRoutes())
        t.merge(publicRoomsRoutes())
        t.merge(userDirectoryRoutes())
        t.merge(roomUpgradeRoutes())
        t.merge(reportRoutes())
        t.merge(toDeviceRoutes())
        t.merge(roomSummaryRoutes())
        t.merge(spaceHierarchyRoutes())
        t.merge(threadRoutes())
        t.merge(timestampRoutes())
        t.merge(tagRoutes())
        t.merge(presenceRoutes())
        t.merge(searchRoutes())
        t.merge(pusherRoutes())
        t.merge(serverKeyRoutes())
        t.merge(federationRoutes())
        t.merge(openIDRoutes())
        t.merge(keyRoutes())
        t.merge(crossSigningRoutes())
        t.merge(keyBackupRoutes())
        t.merge(ServiceRunner.healthRoutes(ready: { [db, notifier] in
            guard await !notifier.draining else { return false }
            return (try? await db.currentStreamHead()) != nil
        }))
        return t
    }

    public func responder() -> MatrixResponder {
        MatrixResponder(routes: routes(), tokens: accounts, limiter: limiter, maxBodyBytes: config.maxBodyBytes, logger: logger)
    }
}
