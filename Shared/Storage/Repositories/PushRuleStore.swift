import Logging
import MatrixCore
import PostgresNIO

/// Each user's push rule changes: their own rules and their changes to server-default rules
/// (rows with no `rule_json`). Every change also rewrites the user's `m.push_rules` global
/// account data at a new stream position, in the same transaction: /sync delivers it, and its
/// position tells any process whether the rules it cached for that user are still current.
public struct PushRuleStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }
    var log: Logger { db.logger }

    public static let accountDataType = "m.push_rules"

    /// One user's changes (empty when they never changed anything).
    public func rules(_ userID: String) async throws -> UserPushRules {
        try await rules(for: [userID])[userID] ?? UserPushRules(userID: userID)
    }

    /// Changes of several users in one query; users with none get an empty entry.
    public func rules(for users: [String]) async throws -> [String: UserPushRules] {
        guard !users.isEmpty else { return [:] }
        var out: [String: UserPushRules] = [:]
        for u in users { out[u] = UserPushRules(userID: u) }
        let rows = try await db.query(Self.selectRows(users))
        for try await row in rows.decode(Row.self) { Self.apply(row, to: &out) }
        return out
    }

    /// The stream position of each user's latest change; users who never changed are absent.
    public func versions(for users: [String]) async throws -> [String: Int64] {
        guard !users.isEmpty else { return [:] }
        var out: [String: Int64] = [:]
        let statement = GlobalAccountDataVersions(users: users, type: Self.accountDataType)
        for try await (u, p) in try await db.client.execute(statement, logger: db.logger) { out[u] = p }
        return out
    }

    /// Applies `edit` to the user's current rules and stores the result with its new
    /// `m.push_rules` account data. Errors thrown by `edit` roll everything back.
    /// Returns the stream position of the change.
    public func update(_ userID: String, _ edit: (inout UserPushRules) throws -> Void) async throws -> Int64 {
        try await db.streamTransaction { conn, sw in
            // The stream lock is held from here: concurrent changes of one user are serialised.
            var current = [userID: UserPushRules(userID: userID)]
            for try await row in try await conn.query(Self.selectRows([userID]), logger: log).decode(Row.self) {
                Self.apply(row, to: &current)
            }
            var rules = current[userID]!
            try edit(&rules)
            let pos = try await sw.allocateOne()
            try await conn.query("DELETE FROM push_rules WHERE user_id = \(userID)", logger: log)
            let encoded = Self.encodeRows(rules).canonicalString
            try await conn.query("""
                INSERT INTO push_rules (user_id, kind, rule_id, priority, rule_json, enabled, actions_json)
                SELECT \(userID), kind, rule_id, priority, rule_json, enabled, actions_json
                FROM jsonb_to_recordset(\(encoded)::jsonb)
                    AS r(kind TEXT, rule_id TEXT, priority BIGINT, rule_json TEXT, enabled BOOLEAN, actions_json TEXT)
                """, logger: log)
            let content = rules.ruleSet.accountDataContent.canonicalString
            try await conn.query("""
                INSERT INTO account_data (user_id, room_id, type, content, stream_pos)
                VALUES (\(userID), '', \(Self.accountDataType), \(content), \(pos))
                ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = EXCLUDED.content, stream_pos = EXCLUDED.stream_pos
                """, logger: log)
            return (pos, pos)
        }
    }

    // MARK: rows

    typealias Row = (String, String, String, Int64, String?, Bool?, String?)

    static func selectRows(_ users: [String]) -> PostgresQuery {
        """
        SELECT user_id, kind, rule_id, priority, rule_json, enabled, actions_json FROM push_rules
        WHERE user_id = ANY(\(users)) ORDER BY user_id, kind, priority DESC, rule_id
        """
    }

    /// Adds one row to its user's rules. Rows arrive most important first within a kind.
    static func apply(_ row: Row, to out: inout [String: UserPushRules]) {
        let (user, kindName, ruleID, _, ruleJSON, enabled, actionsJSON) = row
        guard let kind = PushRuleKind(rawValue: kindName) else { return }
        let actions = actionsJSON.flatMap { try? JSON.parse($0) }.map(PushAction.list)
        var rules = out[user] ?? UserPushRules(userID: user)
        if let ruleJSON {
            guard let parsed = try? JSON.parse(ruleJSON), var rule = PushRule(clientJSON: parsed, kind: kind) else { return }
            rule.ruleID = ruleID
            rule.isDefault = false
            rule.enabled = enabled ?? true
            if let actions { rule.actions = actions }
            rules.rules[kind].append(rule)
        } else {
            rules.defaultChanges[UserPushRules.RuleKey(kind, ruleID)] = .init(enabled: enabled, actions: actions)
        }
        out[user] = rules
    }

    /// The rows for a user's rules: priorities count down so the first rule has the highest.
    static func encodeRows(_ rules: UserPushRules) -> JSON {
        var rows: [JSON] = []
        for kind in PushRuleKind.allCases {
            let list = rules.rules[kind]
            for (i, rule) in list.enumerated() {
                rows.append([
                    "kind": .string(kind.rawValue), "rule_id": .string(rule.ruleID), "priority": .int(Int64(list.count - i)),
                    "rule_json": .string(rule.clientJSON(kind: kind).canonicalString), "enabled": .bool(rule.enabled),
                    "actions_json": .string(rule.actions.json.canonicalString),
                ])
            }
        }
        for (key, change) in rules.defaultChanges where change.enabled != nil || change.actions != nil {
            rows.append([
                "kind": .string(key.kind.rawValue), "rule_id": .string(key.ruleID), "priority": 0, "rule_json": nil,
                "enabled": change.enabled.map(JSON.bool) ?? nil,
                "actions_json": change.actions.map { .string($0.json.canonicalString) } ?? nil,
            ])
        }
        return .array(rows)
    }
}
