import Dispatch
import MatrixCore
import Synchronization

/// Events parsed once and kept by ID, with the transaction that sent them. Once stored, an
/// event's JSON and transaction never change (its position and placement do, and those are
/// always read from the row), so an entry is right for as long as it is kept: nothing needs
/// invalidating, and readers may skip reading the JSON of events held here.
///
/// Two generations bound the memory: when the newer one holds `budget` bytes of JSON it
/// becomes the older one and the old one is let go, so what is used again survives (a hit in
/// the older generation moves the entry to the newer) and the rest ages out.
///
/// A generation let go is freed on a queue of its own. Freeing its few thousand parsed events
/// takes some 10 ms; done in place, under the lock, it stalled whoever stored the event that
/// filled the newer generation, which is the group commit, and so every send in flight: about
/// once a second at full load, the send path's slowest requests.
public final class EventCache: Sendable {
    public struct Body: Sendable {
        public let event: Event
        public let txnDevice: String?
        public let txnID: String?
        /// Size of the event's JSON, what the budget counts.
        let bytes: Int
    }

    struct Generations {
        var young: [String: Body] = [:]
        var old: [String: Body] = [:]
        var youngBytes = 0
        /// The generation just let go, for the caller to free outside the lock.
        var retired: [String: Body]?
    }

    private static let freeing = DispatchQueue(label: "myelin.event-cache.free", qos: .utility)

    private let state = Mutex(Generations())
    let budget: Int

    /// `budget`: bytes of event JSON in each generation.
    public init(budget: Int = 2 << 20) { self.budget = budget }

    public func body(_ eventID: String) -> Body? {
        withGenerations { g in Self.lookup(&g, eventID, budget: budget) }
    }

    /// The bodies of those of `eventIDs` that are held.
    func bodies(_ eventIDs: [String]) -> [String: Body] {
        withGenerations { g in
            var out: [String: Body] = [:]
            for id in eventIDs where out[id] == nil { out[id] = Self.lookup(&g, id, budget: budget) }
            return out
        }
    }

    /// Keeps an event that was just stored, unless one of the same ID is held already.
    public func keep(_ event: Event, bytes: Int, txnDevice: String?, txnID: String?) {
        let b = Body(event: event, txnDevice: txnDevice, txnID: txnID, bytes: bytes)
        withGenerations { g in
            guard g.young[event.eventID] == nil, g.old[event.eventID] == nil else { return }
            Self.add(&g, event.eventID, b, budget: budget)
        }
    }

    /// The held body of a row's event, or the row's JSON parsed (and then held).
    func body(_ eventID: String, json: String, txnDevice: String?, txnID: String?) throws -> Body {
        try body(eventID) ?? parsed(eventID, json: json, txnDevice: txnDevice, txnID: txnID)
    }

    /// A row's JSON parsed and held, for an event known not to be held.
    func parsed(_ eventID: String, json: String, txnDevice: String?, txnID: String?) throws -> Body {
        let b = Body(event: Event(eventID: eventID, json: try JSON.parse(json)), txnDevice: txnDevice, txnID: txnID,
                     bytes: json.utf8.count)
        withGenerations { g in Self.add(&g, eventID, b, budget: budget) }
        return b
    }

    /// Runs `body` under the lock, then hands a generation it let go to `freeing`.
    private func withGenerations<T>(_ body: (inout Generations) -> T) -> T {
        let (result, retired) = state.withLock { g -> (T, [String: Body]?) in
            let r = body(&g)
            defer { g.retired = nil }
            return (r, g.retired)
        }
        if let retired { Self.freeing.async { withExtendedLifetime(retired) {} } }
        return result
    }

    /// A held entry; one found in the older generation moves to the newer.
    private static func lookup(_ g: inout Generations, _ id: String, budget: Int) -> Body? {
        if let b = g.young[id] { return b }
        guard let b = g.old.removeValue(forKey: id) else { return nil }
        add(&g, id, b, budget: budget)
        return b
    }

    private static func add(_ g: inout Generations, _ id: String, _ b: Body, budget: Int) {
        if g.youngBytes + b.bytes > budget, !g.young.isEmpty {
            g.retired = g.old
            g.old = g.young
            g.young = [:]
            g.youngBytes = 0
        }
        if let previous = g.young.updateValue(b, forKey: id) { g.youngBytes -= previous.bytes }
        g.youngBytes += b.bytes
    }
}
