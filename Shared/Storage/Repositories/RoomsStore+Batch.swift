import PostgresNIO

/// Membership reads over many rooms at once, for pages of rooms.
extension RoomsStore {
    /// Joined and invited member counts per room (rooms with neither are absent).
    public func memberCounts(_ rooms: [String]) async throws -> [String: (joined: Int64, invited: Int64)] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: (joined: Int64, invited: Int64)] = [:]
        for try await (r, j, i) in try await db.query("""
            SELECT room_id, count(*) FILTER (WHERE membership = 'join'), count(*) FILTER (WHERE membership = 'invite')
            FROM memberships WHERE room_id = ANY(\(rooms)) GROUP BY room_id
            """).decode((String, Int64, Int64).self) {
            out[r] = (j, i)
        }
        return out
    }

    /// Up to `limit` members per room other than `viewer`, as a room summary picks its
    /// heroes: joined first, then invited, then those who left or were banned, each by user ID.
    public func heroes(_ rooms: [String], viewer: String, limit: Int) async throws -> [String: [MembershipRow]] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: [MembershipRow]] = [:]
        for m in try await Self.decode(db.query("""
            SELECT m.room_id, m.user_id, m.membership, m.event_id, m.sender, m.stream_pos
            FROM unnest(\(rooms)::text[]) AS x(r) CROSS JOIN LATERAL (
                SELECT * FROM memberships m WHERE m.room_id = x.r AND m.user_id <> \(viewer)
                  AND m.membership IN ('join', 'invite', 'leave', 'ban')
                ORDER BY CASE m.membership WHEN 'join' THEN 0 WHEN 'invite' THEN 1 ELSE 2 END, m.user_id
                LIMIT \(Int64(limit))) m
            """)) {
            out[m.roomID, default: []].append(m)
        }
        return out
    }
}
