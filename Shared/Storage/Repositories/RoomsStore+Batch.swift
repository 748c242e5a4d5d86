import PostgresNIO

/// A member a room summary names.
public struct HeroRow: Sendable {
    public let userID: String
    public let membership: String
    public let displayName: String?
    public let avatarURL: String?
}

/// Membership reads over many rooms at once, for pages of rooms.
extension RoomsStore {
    /// Joined and invited member counts per room (rooms with neither are absent).
    public func memberCounts(_ rooms: [String]) async throws -> [String: (joined: Int64, invited: Int64)] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: (joined: Int64, invited: Int64)] = [:]
        for try await (r, j, i) in try await db.client.execute(MemberCountsOfRooms(rooms: rooms), logger: db.logger) {
            out[r] = (j, i)
        }
        return out
    }

    /// Up to `limit` members per room other than `viewer`, as a room summary picks its
    /// heroes: joined first, then invited, then those who left or were banned, each by user
    /// ID; with the display name and avatar of their membership event.
    public func heroes(_ rooms: [String], viewer: String, limit: Int) async throws -> [String: [HeroRow]] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: [HeroRow]] = [:]
        for try await (r, hero) in try await db.client.execute(HeroesOfRooms(rooms: rooms, viewer: viewer, limit: limit),
                                                             logger: db.logger) {
            out[r, default: []].append(hero)
        }
        return out
    }
}
