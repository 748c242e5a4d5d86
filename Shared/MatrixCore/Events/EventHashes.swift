import Crypto

/// Content and reference hashes (server-server spec, "Calculating the content hash" and
/// "Calculating the reference hash").
extension JSON {
    /// SHA-256 over the canonical event without `unsigned`, `signatures` and `hashes`:
    /// covers the full, unredacted content. Nil when this is not an object.
    public var contentHash: [UInt8]? {
        guard case .object(var event) = self else { return nil }
        event["unsigned"] = nil
        event["signatures"] = nil
        event["hashes"] = nil
        return Array(SHA256.hash(data: JSON.object(event).canonicalBytes))
    }

    /// True when `hashes.sha256` matches the content hash. A mismatch means the event was
    /// redacted (or tampered with) on the way, and only its redacted form may be used.
    public var hasValidContentHash: Bool {
        guard let claimed = self["hashes"]?["sha256"]?.stringValue,
              let claimedBytes = Base64.decode(claimed),
              let actual = contentHash else { return false }
        return claimedBytes == actual
    }

    /// SHA-256 over the redacted event without `signatures` and `unsigned`: what event IDs
    /// from room version 3 are made of. Nil when this is not an object.
    public func referenceHash(for version: RoomVersion) -> [UInt8]? {
        guard case .object(var event) = redacted(for: version) else { return nil }
        event["signatures"] = nil
        event["unsigned"] = nil
        return Array(SHA256.hash(data: JSON.object(event).canonicalBytes))
    }
}
