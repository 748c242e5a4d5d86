/// One action of a push rule: `notify`, a `set_tweak`, or something this server does not
/// know, kept so that it round-trips.
public enum PushAction: Sendable, Hashable {
    case notify
    case setTweak(String, value: JSON?)
    case unknown(JSON)

    /// Reads a stored or client action. The historical `dont_notify` and `coalesce` must be
    /// ignored, so they read as nil and drop out of action lists.
    public init?(json: JSON) {
        switch json {
        case .string("notify"): self = .notify
        case .string("dont_notify"), .string("coalesce"): return nil
        case .object(let o):
            if let name = o["set_tweak"]?.stringValue {
                self = .setTweak(name, value: o["value"])
            } else {
                self = .unknown(json)
            }
        default: self = .unknown(json)
        }
    }

    public var json: JSON {
        switch self {
        case .notify: return "notify"
        case .setTweak(let name, let value):
            var o: [String: JSON] = ["set_tweak": .string(name)]
            if let value { o["value"] = value }
            return .object(o)
        case .unknown(let raw): return raw
        }
    }

    /// Reads an action list leniently (stored rules): unknown entries are kept.
    public static func list(_ json: JSON?) -> [PushAction] {
        (json?.arrayValue ?? []).compactMap(PushAction.init(json:))
    }

    /// Reads an action list a client sent: every entry must be a known action.
    public static func validatedList(_ json: JSON?) throws(PushRuleError) -> [PushAction] {
        guard let json else { throw .missing("actions") }
        guard let items = json.arrayValue else { throw .invalid("actions must be an array") }
        var actions: [PushAction] = []
        for item in items {
            let action = PushAction(json: item)
            if case .unknown = action { throw .invalid("unrecognised action: \(item.canonicalString)") }
            if let action { actions.append(action) }
        }
        return actions
    }
}

extension Array where Element == PushAction {
    public var json: JSON { .array(map(\.json)) }

    /// True when the actions produce a notification.
    public var notifies: Bool { contains(.notify) }

    /// The `highlight` tweak: true when present without a value; false when absent.
    public var highlights: Bool {
        for case .setTweak("highlight", let value) in self {
            guard let value else { return true }
            return value.boolValue ?? false
        }
        return false
    }

    /// The `sound` tweak's value, if any.
    public var sound: String? {
        for case .setTweak("sound", let value) in self { return value?.stringValue }
        return nil
    }
}
