import MatrixCore

/// Room versions by room ID. A room's version is fixed at creation, so entries never go
/// stale; the cache only forgets everything when it grows past its bound.
actor RoomVersionCache {
    private var versions: [String: RoomVersion] = [:]
    private let capacity: Int

    init(capacity: Int = 100_000) { self.capacity = capacity }

    func lookup(_ rooms: [String]) -> [String: RoomVersion] {
        var out: [String: RoomVersion] = [:]
        for r in rooms { if let v = versions[r] { out[r] = v } }
        return out
    }

    func store(_ found: [String: RoomVersion]) {
        if versions.count + found.count > capacity { versions.removeAll(keepingCapacity: true) }
        versions.merge(found, uniquingKeysWith: { _, b in b })
    }
}
