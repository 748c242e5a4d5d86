import MatrixCore

/// Events and rooms for the push rule tests.
enum PushFixture {
    static let me = "@bob:example.org"
    static let other = "@alice:example.org"
    static let room = "!room:example.org"

    static func event(_ type: String = "m.room.message", sender: String = other, stateKey: String? = nil,
                      content: JSON = [:]) -> Event {
        var json: JSON = [
            "type": .string(type), "sender": .string(sender), "room_id": .string(room),
            "content": content, "origin_server_ts": 1, "depth": 1,
        ]
        if let stateKey { json["state_key"] = .string(stateKey) }
        return Event(eventID: "$e:example.org", json: json)
    }

    static func message(_ body: String, msgtype: String = "m.text", extra: [String: JSON] = [:]) -> Event {
        var content: [String: JSON] = ["msgtype": .string(msgtype), "body": .string(body)]
        for (k, v) in extra { content[k] = v }
        return event(content: .object(content))
    }

    /// An evaluator in a room of `members` joined users where `other` has power 50.
    static func evaluator(_ event: Event, members: Int = 5, notificationsRoom: Int64? = nil) -> PushRuleEvaluator {
        var pl: JSON = ["users": [other: 50]]
        if let notificationsRoom { pl["notifications"] = ["room": .int(notificationsRoom)] }
        return PushRuleEvaluator(event: event, memberCount: members, powerLevels: PowerLevels(content: pl, roomVersion: .v11))
    }

    static var defaults: PushRuleSet { DefaultPushRules.ruleSet(for: me) }
}
