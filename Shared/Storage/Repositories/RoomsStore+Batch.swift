import PostgresNIO

/// A member a room summary names.
public struct HeroRow: Sendable {
    public let userID: String
    public let membership: String
    public let displayName: String?
    public let avatarURL: String?
}

/// What a room summary needs of a room's members: its joined and invited counts and its
/// heroes.
public struct RoomSummaryRow: Sendable {
    public var joined: Int64
    public var invited: Int64
    public var heroes: [HeroRow]
    public init(joined: Int64 = 0, invited: Int64 = 0, heroes: [HeroRow] = []) {
        (self.joined, self.invited, self.heroes) = (joined, invited, heroes)
    }
}

/// Membership reads over many rooms at once, for pages of rooms.
extension RoomsStore {
    /// Each room's member counts and up to `heroLimit` members other than `viewer`, as a
    /// room summary picks its heroes: joined first, then invited, then those who left or were
    /// banned, each by user ID; with the display name and avatar of their membership event.
    /// One query for the page (rooms without members get zero counts and no heroes).
    public func summaries(_ rooms: [String], viewer: String, heroLimit: Int) async throws -> [String: RoomSummaryRow] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: RoomSummaryRow] = [:]
        for try await (r, joined, invited, hero) in try await db.client.execute(
            SummariesOfRooms(rooms: rooms, viewer: viewer, heroLimit: heroLimit), logger: db.logger) {
            out[r, default: RoomSummaryRow(joined: joined, invited: invited)].heroes += hero.map { [$0] } ?? []
        }
        return out
    }
}
