/// The per-user reads of woken syncs, coalesced: the polls one message wakes probe and count
/// unread together, in one statement each, rather than one statement per poll.
public struct SyncReadBatches: Sendable {
    private let probes: ReadCoalescer<SyncProbeRequest, SyncProbe>
    private let unread: ReadCoalescer<UnreadRequest, UnreadByRoom>

    public init(userData: UserDataStore) {
        probes = ReadCoalescer { try await userData.syncProbes($0) }
        unread = ReadCoalescer { try await userData.unreadCounts($0) }
    }

    /// `UserDataStore.syncProbes` for one sync, in a batch with the probes that come at the same time.
    public func syncProbe(userID: String, deviceID: String, since: Int64) async throws -> SyncProbe {
        try await probes.read(SyncProbeRequest(userID: userID, deviceID: deviceID, since: since))
    }

    /// `UserDataStore.unreadCounts` for one user, in a batch with the counts asked at the same time.
    public func unreadCounts(userID: String, rooms: [String]) async throws -> UnreadByRoom {
        guard !rooms.isEmpty else { return [:] }
        return try await unread.read(UnreadRequest(userID: userID, rooms: rooms))
    }

    /// Counts over every thread, per room.
    public func unreadTotals(userID: String, rooms: [String]) async throws -> [String: (Int64, Int64)] {
        UserDataStore.totals(try await unreadCounts(userID: userID, rooms: rooms))
    }
}
