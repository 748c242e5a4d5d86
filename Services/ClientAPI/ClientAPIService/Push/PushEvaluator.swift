import MatrixCore
import RoomServer
import Storage

/// Decides, as each event is stored, whom it notifies: every local joined member except the
/// sender, by their own push rules. Only notifying outcomes become rows, which is what the
/// unread counts in /sync add up.
struct PushEvaluator: Sendable {
    let rules: PushRulesCache
    let serverName: ServerName

    init(store: PushRuleStore, serverName: ServerName) {
        self.rules = PushRulesCache(store: store)
        self.serverName = serverName
    }

    func actions(for event: Event, in room: RoomState) async throws -> [PushActionRow] {
        let joined = room.state.values.filter { $0.type == "m.room.member" && $0.membership == "join" }
        let recipients = joined.compactMap(\.stateKey).filter { $0 != event.sender && isLocal($0) }
        guard !recipients.isEmpty else { return [] }
        let ruleSets = try await rules.ruleSets(for: recipients)
        let evaluator = PushRuleEvaluator(event: event, memberCount: joined.count, powerLevels: room.powerLevels)
        let thread = Self.threadID(of: event)
        var memo: [PushCondition: Bool] = [:]
        // Members with the same rules and outcome share one encoding of the actions.
        var encoded: [[PushAction]: String] = [:]
        var rows: [PushActionRow] = []
        for user in recipients {
            guard let set = ruleSets[user] else { continue }
            let displayName = room.state[.member(user)]?.content["displayname"]?.stringValue
            let result = evaluator.evaluate(set, displayName: displayName, memo: &memo)
            guard result.notify else { continue }
            let json = encoded[result.actions] ?? result.actions.json.canonicalString
            encoded[result.actions] = json
            rows.append(PushActionRow(userID: user, highlight: result.highlight, threadID: thread, actionsJSON: json))
        }
        return rows
    }

    private func isLocal(_ userID: String) -> Bool {
        UserID(userID)?.server == serverName
    }

    /// The thread an event counts towards: its thread root, or the main timeline.
    static func threadID(of event: Event) -> String {
        let relation = event.content["m.relates_to"]
        guard relation?["rel_type"]?.stringValue == "m.thread" else { return "main" }
        return relation?["event_id"]?.stringValue ?? "main"
    }
}
