import MatrixCore
import ServiceKit
import Storage

/// The push rules API: the global ruleset, single rules, and their enabled flag and actions.
extension ClientAPI {
    var pushRuleStore: PushRuleStore { PushRuleStore(db: db) }

    func pushRuleRoutes() -> RouteTable {
        var t = RouteTable()
        let base = "/_matrix/client/v3/pushrules"
        let rulePath = base + "/global/:kind/:ruleId"

        t.get(base) { [self] req in
            .json(["global": try await pushRuleStore.rules(req.user.userID).ruleSet.clientJSON])
        }
        t.get(base + "/global") { [self] req in
            .json(try await pushRuleStore.rules(req.user.userID).ruleSet.clientJSON)
        }
        t.get(rulePath) { [self] req in
            let (kind, rule) = try await existingRule(req)
            return .json(rule.clientJSON(kind: kind))
        }
        t.put(rulePath) { [self] req in
            let kind = try Self.pushRuleKind(req)
            let ruleID = try req.param("ruleId")
            let before = req.queryValue("before"), after = req.queryValue("after")
            let body = try req.json()
            let rule = try Self.mapPushRuleError { () throws(PushRuleError) in try PushRule(ruleID: ruleID, kind: kind, body: body) }
            try await changePushRules(req) { try $0.put(kind, rule, before: before, after: after) }
            return .empty
        }
        t.delete(rulePath) { [self] req in
            let kind = try Self.pushRuleKind(req)
            let ruleID = try req.param("ruleId")
            try await changePushRules(req) { try $0.delete(kind, ruleID) }
            return .empty
        }
        t.get(rulePath + "/enabled") { [self] req in
            .json(["enabled": .bool(try await existingRule(req).1.enabled)])
        }
        t.put(rulePath + "/enabled") { [self] req in
            let kind = try Self.pushRuleKind(req)
            let ruleID = try req.param("ruleId")
            guard let value = try req.jsonBody()["enabled"] else { throw MatrixError.missingParam("enabled is required") }
            guard let enabled = value.boolValue else { throw MatrixError.invalidParam("enabled must be a boolean") }
            try await changePushRules(req) { try $0.setEnabled(kind, ruleID, enabled) }
            return .empty
        }
        t.get(rulePath + "/actions") { [self] req in
            .json(["actions": try await existingRule(req).1.actions.json])
        }
        t.put(rulePath + "/actions") { [self] req in
            let kind = try Self.pushRuleKind(req)
            let ruleID = try req.param("ruleId")
            let body = try req.json()
            let actions = try Self.mapPushRuleError { () throws(PushRuleError) in try PushAction.validatedList(body["actions"]) }
            try await changePushRules(req) { try $0.setActions(kind, ruleID, actions) }
            return .empty
        }
        return t
    }

    /// The `m.push_rules` account data event with the user's current rules. Clients expect it
    /// in every initial sync, also when the user never changed a rule.
    func pushRulesAccountDataEvent(_ userID: String) async throws -> JSON {
        ["type": .string(PushRuleStore.accountDataType),
         "content": try await pushRuleStore.rules(userID).ruleSet.accountDataContent]
    }

    private func existingRule(_ req: MatrixRequest) async throws -> (PushRuleKind, PushRule) {
        let kind = try Self.pushRuleKind(req)
        let ruleSet = try await pushRuleStore.rules(req.user.userID).ruleSet
        guard let rule = ruleSet.rule(kind, try req.param("ruleId")) else { throw MatrixError.notFound("The push rule was not found.") }
        return (kind, rule)
    }

    /// Applies one edit in storage and wakes the user's syncs for the new `m.push_rules`.
    private func changePushRules(_ req: MatrixRequest, _ edit: (inout UserPushRules) throws -> Void) async throws {
        let user = req.user.userID
        let pos: Int64
        do {
            pos = try await pushRuleStore.update(user) { rules in try edit(&rules) }
        } catch let e as PushRuleError {
            throw Self.matrixError(e)
        }
        announce(StreamNotice(pos: pos, users: [user]))
    }

    private static func pushRuleKind(_ req: MatrixRequest) throws -> PushRuleKind {
        let name = try req.param("kind")
        guard let kind = PushRuleKind(rawValue: name) else { throw MatrixError.invalidParam("Unknown push rule kind: \(name)") }
        return kind
    }

    private static func mapPushRuleError<T>(_ body: () throws(PushRuleError) -> T) throws(MatrixError) -> T {
        do { return try body() } catch { throw matrixError(error) }
    }

    static func matrixError(_ e: PushRuleError) -> MatrixError {
        switch e {
        case .missing(let field): .missingParam("\(field) is required")
        case .invalid(let message): .invalidParam(message)
        case .notFound: .notFound("The push rule was not found.")
        case .unknownAnchor(let id): MatrixError(.badRequest, "M_UNKNOWN", "before/after rule not found: \(id)")
        }
    }
}
