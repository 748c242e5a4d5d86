import PostgresNIO

/// Reads the room list needs: recency of rooms, which rooms moved, and selected state.
extension EventStore {
    /// Position of the latest event of one of `types` at or before `upTo`, per room
    /// (rooms with none are absent). One index walk per room, newest first.
    public func latestPositions(_ rooms: [String], types: [String], upTo: Int64) async throws -> [String: Int64] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: Int64] = [:]
        for try await (r, p) in try await db.client.execute(LatestPositionsOfTypes(rooms: rooms, types: types, upTo: upTo),
                                                             logger: db.logger) {
            if let p { out[r] = p }
        }
        return out
    }

    /// Position of each room's last persisted event.
    public func lastPositions(_ rooms: [String]) async throws -> [String: Int64] {
        guard !rooms.isEmpty else { return [:] }
        var out: [String: Int64] = [:]
        for try await (r, p) in try await db.client.execute(LastPositionsOfRooms(rooms: rooms), logger: db.logger) {
            out[r] = p
        }
        return out
    }

    /// Current state events whose (type, state_key) is one of `pairs`, or whose type is in
    /// `anyKeyTypes`; with `changedAfter`, only those that changed after that position.
    public func currentState(_ roomID: String, pairs: [(String, String)], anyKeyTypes: [String],
                             changedAfter: Int64 = -1) async throws -> [StoredEvent] {
        guard !pairs.isEmpty || !anyKeyTypes.isEmpty else { return [] }
        let refs = try await db.client.all(
            SelectedCurrentState(roomID: roomID, changedAfter: changedAfter, anyKeyTypes: anyKeyTypes, pairs: pairs), logger: db.logger)
        return try await resolve(refs).compactMap { $0 }
    }

    /// Current state events that changed after a position.
    public func currentStateChanges(_ roomID: String, after: Int64) async throws -> [StoredEvent] {
        try await resolve(db.client.all(CurrentStateChangedAfter(roomID: roomID, after: after), logger: db.logger)).compactMap { $0 }
    }
}
