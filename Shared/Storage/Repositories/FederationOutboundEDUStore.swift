import MatrixCore
import PostgresNIO

/// EDUs the federation sender must deliver even across its own restarts
/// (`federation_outbound_edus`): stored per destination, oldest first, until delivered.
public struct FederationOutboundEDUStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    /// Keeps `edu` for each of `destinations`.
    public func add(_ edu: JSON, to destinations: [String]) async throws {
        guard !destinations.isEmpty else { return }
        let text = edu.canonicalString, now = nowMillis()
        try await db.query("""
            INSERT INTO federation_outbound_edus (destination, edu_json, created_ts)
            SELECT d, \(text), \(now) FROM unnest(\(destinations)::text[]) AS d
            """)
    }

    /// The oldest `limit` EDUs waiting for `destination`, with their sequence numbers.
    public func pending(for destination: String, limit: Int) async throws -> [(seq: Int64, edu: JSON)] {
        var out: [(seq: Int64, edu: JSON)] = []
        for try await (seq, text) in try await db.query("""
            SELECT seq, edu_json FROM federation_outbound_edus WHERE destination = \(destination) ORDER BY seq LIMIT \(limit)
            """).decode((Int64, String).self) {
            out.append((seq, try JSON.parse(text)))
        }
        return out
    }

    /// Drops what `destination` has accepted: its EDUs up to `seq`.
    public func delivered(to destination: String, upTo seq: Int64) async throws {
        try await db.query("DELETE FROM federation_outbound_edus WHERE destination = \(destination) AND seq <= \(seq)")
    }

    /// Destinations with EDUs waiting.
    public func destinations() async throws -> [String] {
        var out: [String] = []
        for try await d in try await db.query("SELECT DISTINCT destination FROM federation_outbound_edus").decode(String.self) {
            out.append(d)
        }
        return out
    }
}
