import MatrixCore
import RoomServer
import Storage

/// Decides, as each event is stored, whom it notifies: every local joined member except the
/// sender, by their own push rules. Only notifying outcomes become rows, which is what the
/// unread counts in /sync add up; the members evaluated go with them, so that storage can
/// keep what most of them share as one row (`NotificationLayout`).
struct PushEvaluator: Sendable {
    let rules: PushRulesCache
    let serverName: ServerName

    init(store: PushRuleStore, serverName: ServerName) {
        self.rules = PushRulesCache(store: store)
        self.serverName = serverName
    }

    /// The rows and recipients of each event in `batch`, in order. Rulesets are read once for the batch.
    func actions(for batch: [(Event, RoomState)]) async throws -> [PushOutcome] {
        // Every local joined member except the sender, per event, and the joined count.
        var audiences: [(recipients: [String], joined: Int)] = []
        var everyone = Set<String>()
        for (event, room) in batch {
            let joined = room.joinedMembers
            let recipients = joined.filter { $0 != event.sender && isLocal($0) }
            audiences.append((recipients, joined.count))
            everyone.formUnion(recipients)
        }
        guard !everyone.isEmpty else { return batch.map { _ in .none } }
        let ruleSets = try await rules.ruleSets(for: Array(everyone))
        return zip(batch, audiences).map { item, audience in
            PushOutcome(rows: actions(for: item.0, in: item.1, recipients: audience.recipients, memberCount: audience.joined,
                                      ruleSets: ruleSets),
                        recipients: audience.recipients)
        }
    }

    private func actions(for event: Event, in room: RoomState, recipients: [String], memberCount: Int,
                         ruleSets: [String: CompiledPushRules]) -> [PushActionRow] {
        guard !recipients.isEmpty else { return [] }
        let evaluator = PushRuleEvaluator(event: event, memberCount: memberCount, powerLevels: room.powerLevels)
        let thread = Self.threadID(of: event)
        var memo = PushEvaluationMemo()
        var rows: [PushActionRow] = []
        for user in recipients {
            guard let set = ruleSets[user] else { continue }
            let displayName = room.displayName(ofJoined: user)
            guard let rule = evaluator.firstMatch(set, displayName: displayName, memo: &memo), rule.notify else { continue }
            rows.append(PushActionRow(userID: user, highlight: rule.highlight, threadID: thread, actionsJSON: rule.actionsJSON))
        }
        return rows
    }

    /// Whether a member's user ID is on this server: the part after the first colon, which
    /// is all a joined member's state key (already a valid user ID) needs to be checked for.
    private func isLocal(_ userID: String) -> Bool {
        guard let colon = userID.utf8.firstIndex(of: UInt8(ascii: ":")) else { return false }
        return userID.utf8[userID.utf8.index(after: colon)...].elementsEqual(serverName.rawValue.utf8)
    }

    /// The thread an event counts towards: its thread root, or the main timeline.
    static func threadID(of event: Event) -> String {
        let relation = event.content["m.relates_to"]
        guard relation?["rel_type"]?.stringValue == "m.thread" else { return "main" }
        return relation?["event_id"]?.stringValue ?? "main"
    }
}
