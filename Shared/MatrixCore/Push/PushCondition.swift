/// One condition of an override or underride rule. A condition whose kind or parameters this
/// server does not understand is kept as `unrecognised` and never matches, as the spec requires.
public enum PushCondition: Sendable, Hashable {
    case eventMatch(key: String, pattern: String)
    case eventPropertyIs(key: String, value: JSON)
    case eventPropertyContains(key: String, value: JSON)
    case containsDisplayName
    case roomMemberCount(is: String)
    case senderNotificationPermission(key: String)
    case unrecognised(JSON)

    public init(json: JSON) {
        let key = json["key"]?.stringValue
        switch json["kind"]?.stringValue {
        case "event_match":
            if let key, let pattern = json["pattern"]?.stringValue { self = .eventMatch(key: key, pattern: pattern); return }
        case "event_property_is":
            if let key, let value = json["value"], value.isPushScalar { self = .eventPropertyIs(key: key, value: value); return }
        case "event_property_contains":
            if let key, let value = json["value"], value.isPushScalar { self = .eventPropertyContains(key: key, value: value); return }
        case "contains_display_name":
            self = .containsDisplayName
            return
        case "room_member_count":
            if let comparison = json["is"]?.stringValue { self = .roomMemberCount(is: comparison); return }
        case "sender_notification_permission":
            if let key { self = .senderNotificationPermission(key: key); return }
        default:
            break
        }
        self = .unrecognised(json)
    }

    public var json: JSON {
        switch self {
        case .eventMatch(let key, let pattern):
            return ["kind": "event_match", "key": .string(key), "pattern": .string(pattern)]
        case .eventPropertyIs(let key, let value):
            return ["kind": "event_property_is", "key": .string(key), "value": value]
        case .eventPropertyContains(let key, let value):
            return ["kind": "event_property_contains", "key": .string(key), "value": value]
        case .containsDisplayName:
            return ["kind": "contains_display_name"]
        case .roomMemberCount(let comparison):
            return ["kind": "room_member_count", "is": .string(comparison)]
        case .senderNotificationPermission(let key):
            return ["kind": "sender_notification_permission", "key": .string(key)]
        case .unrecognised(let raw):
            return raw
        }
    }

    /// Reads the conditions a client sent: an array of objects, each with a string `kind`.
    /// Unknown kinds are accepted (they never match).
    public static func validatedList(_ json: JSON?) throws(PushRuleError) -> [PushCondition] {
        guard let json, !json.isNull else { return [] }
        guard let items = json.arrayValue else { throw .invalid("conditions must be an array") }
        var conditions: [PushCondition] = []
        for item in items {
            guard item.objectValue != nil, item["kind"]?.stringValue != nil else {
                throw .invalid("each condition must be an object with a string kind")
            }
            conditions.append(PushCondition(json: item))
        }
        return conditions
    }
}

extension JSON {
    /// The values `event_property_is` and `event_property_contains` compare: strings,
    /// integers in the canonical range, booleans and null.
    var isPushScalar: Bool {
        switch self {
        case .string, .bool, .null: return true
        case .int(let i): return i >= -9_007_199_254_740_991 && i <= 9_007_199_254_740_991
        default: return false
        }
    }
}
