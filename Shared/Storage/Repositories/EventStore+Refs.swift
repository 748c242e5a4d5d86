import MatrixCore
import PostgresNIO

/// An event as the hot reads return it: what can change about it (its position, whether it
/// was redacted) from the row, the rest from the event cache. Rows that carried the JSON of
/// every event cost more to send, check and parse than the reads themselves.
struct EventRef: Sendable {
    let eventID: String
    let streamPos: Int64
    let redactedBy: String?
}

extension EventRef {
    /// A row of `EventStore.eventRefColumns`.
    init(_ row: PostgresRow) throws {
        var c = RowCells(row)
        try self.init(&c)
    }

    /// The next columns of a row, in the order of `EventStore.eventRefColumns`.
    init(_ c: inout RowCells) throws {
        self.init(eventID: try c.next(), streamPos: try c.next(), redactedBy: try c.next())
    }
}

extension EventStore {
    static let eventRefColumns = "e.event_id, e.stream_pos, r.redaction_id"

    /// The events `refs` name, one slot per ref: the cache's, and the rest read in one query.
    /// An event is never deleted, so an empty slot is a bug elsewhere: callers skip it rather
    /// than fail the read.
    func resolve(_ refs: [EventRef]) async throws -> [StoredEvent?] {
        guard !refs.isEmpty else { return [] }
        var bodies = db.eventCache.bodies(refs.map(\.eventID))
        let missing = Set(refs.lazy.map(\.eventID).filter { bodies[$0] == nil })
        if !missing.isEmpty {
            for (id, json, td, ti) in try await db.client.all(EventBodies(Array(missing)), logger: db.logger) {
                bodies[id] = try db.eventCache.parsed(id, json: json, txnDevice: td, txnID: ti)
            }
        }
        return refs.map { r in
            bodies[r.eventID].map {
                StoredEvent(event: $0.event, streamPos: r.streamPos, redactedBy: r.redactedBy, txnDevice: $0.txnDevice,
                            txnID: $0.txnID, roomVersion: nil)
            }
        }
    }
}
