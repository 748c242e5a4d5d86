import MatrixCore
import PostgresNIO

/// What other servers sent us and what became of it: rejected and soft-failed events,
/// the answers to their transactions, and the stripped state of their invites.
public struct FederationInboxStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }
    public init(store: EventStore) { self.db = store.db }

    // MARK: rejected events

    /// Records an event that failed its checks. A second record of the same event is ignored.
    public func reject(_ event: Event, reason: String, softFailed: Bool) async throws {
        try await db.query("""
            INSERT INTO rejected_events (event_id, room_id, json, reason, soft_failed, received_ts)
            VALUES (\(event.eventID), \(event.roomID), \(event.json.canonicalString), \(String(reason.prefix(500))),
                    \(softFailed), \(nowMillis()))
            ON CONFLICT (event_id) DO NOTHING
            """)
    }

    /// Which of `ids` were rejected (true) or soft-failed (false).
    public func rejected(_ ids: [String]) async throws -> [String: Bool] {
        guard !ids.isEmpty else { return [:] }
        var out: [String: Bool] = [:]
        for try await (id, soft) in try await db.query("""
            SELECT event_id, soft_failed FROM rejected_events WHERE event_id = ANY(\(ids))
            """).decode((String, Bool).self) {
            out[id] = !soft
        }
        return out
    }

    /// A rejected or soft-failed event, as received.
    public func rejectedEvent(_ id: String) async throws -> (event: Event, softFailed: Bool, reason: String)? {
        for try await (json, soft, reason) in try await db.query("""
            SELECT json, soft_failed, reason FROM rejected_events WHERE event_id = \(id)
            """).decode((String, Bool, String).self) {
            return (Event(eventID: id, json: try JSON.parse(json)), soft, reason)
        }
        return nil
    }

    /// Which of `ids` are stored, in the room or among the rejected.
    public func known(_ ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        var out = Set<String>()
        for try await id in try await db.query("""
            SELECT event_id FROM events WHERE event_id = ANY(\(ids))
            UNION SELECT event_id FROM rejected_events WHERE event_id = ANY(\(ids))
            """).decode(String.self) {
            out.insert(id)
        }
        return out
    }

    // MARK: transactions

    public func transactionResponse(origin: String, txnID: String) async throws -> String? {
        for try await r in try await db.query("""
            SELECT response_json FROM federation_inbound_txns WHERE origin = \(origin) AND txn_id = \(txnID)
            """).decode(String.self) {
            return r
        }
        return nil
    }

    public func saveTransactionResponse(origin: String, txnID: String, response: String) async throws {
        try await db.query("""
            INSERT INTO federation_inbound_txns (origin, txn_id, response_json, received_ts)
            VALUES (\(origin), \(txnID), \(response), \(nowMillis()))
            ON CONFLICT (origin, txn_id) DO NOTHING
            """)
    }

    // MARK: invites from other servers

    public func saveInviteState(roomID: String, userID: String, eventID: String, state: [JSON]) async throws {
        try await db.query("""
            INSERT INTO remote_invite_state (room_id, user_id, event_id, state_json)
            VALUES (\(roomID), \(userID), \(eventID), \(JSON.array(state).canonicalString))
            ON CONFLICT (room_id, user_id) DO UPDATE SET event_id = EXCLUDED.event_id, state_json = EXCLUDED.state_json
            """)
    }

    /// The stripped state sent with the invite `eventID`, if it came from another server.
    public func inviteState(roomID: String, userID: String, eventID: String) async throws -> [JSON]? {
        for try await s in try await db.query("""
            SELECT state_json FROM remote_invite_state WHERE room_id = \(roomID) AND user_id = \(userID) AND event_id = \(eventID)
            """).decode(String.self) {
            return try JSON.parse(s).arrayValue
        }
        return nil
    }
}
