/// What one XAUTOCLAIM call returned.
public struct BusAutoclaimResult: Sendable, Hashable {
    /// Where the next scan starts; "0-0" once the whole pending list was scanned.
    public let nextStart: String
    /// Entries now owned by the claiming consumer.
    public let entries: [StreamEntry]
    /// IDs that were pending but no longer exist in the stream (trimmed);
    /// Redis drops them from the pending list itself.
    public let deletedIDs: [String]

    public init(nextStart: String, entries: [StreamEntry], deletedIDs: [String]) {
        self.nextStart = nextStart
        self.entries = entries
        self.deletedIDs = deletedIDs
    }
}
