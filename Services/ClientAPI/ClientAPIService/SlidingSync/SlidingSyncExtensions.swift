import MatrixCore
import ServiceKit
import Storage

/// What the extensions of one response may cover.
struct ExtensionScope: Sendable {
    let user: TokenOwner
    let from: Int64?
    let upTo: Int64
    /// Joined rooms in the lists' windows, by list name.
    let windows: [String: [String]]
    /// Joined rooms subscribed to explicitly.
    let subscribed: [String]
    /// Rooms this response sends in full: their receipts and account data start from scratch.
    let initialRooms: Set<String>
    let joined: Set<String>

    func rooms(explicit: [String]?, lists: [String]?) -> [String] {
        if let explicit { return explicit.filter(joined.contains) }
        var out = Set(subscribed)
        for (name, ids) in windows where lists.map({ $0.contains(name) }) ?? true { out.formUnion(ids) }
        return out.filter(joined.contains).sorted()
    }
}

extension ClientAPI {
    /// The `extensions` object of a response; empty when none has anything to say.
    func slidingSyncExtensions(_ x: ExtensionsRequest, scope: ExtensionScope) async throws -> [String: JSON] {
        // Independent reads, made side by side.
        async let toDevice = x.toDevice ? toDeviceExtension(x, scope: scope) : nil
        async let e2ee = x.e2ee ? e2eeExtension(scope) : nil
        async let accountData = x.accountData
            ? accountDataExtension(scope.rooms(explicit: x.accountDataRooms, lists: x.accountDataLists), scope) : nil
        async let receipts = x.receipts ? receiptsExtension(scope.rooms(explicit: x.receiptRooms, lists: x.receiptLists), scope) : nil
        async let typing = x.typing ? typingExtension(scope.rooms(explicit: x.typingRooms, lists: x.typingLists), scope) : nil
        var out: [String: JSON] = [:]
        out["to_device"] = try await toDevice
        out["e2ee"] = try await e2ee
        out["account_data"] = try await accountData
        out["receipts"] = try await receipts
        out["typing"] = try await typing
        return out
    }

    /// True when an extension result carries something the client has not seen.
    static func extensionsHaveNews(_ ext: [String: JSON]) -> Bool {
        if !(ext["to_device"]?["events"]?.arrayValue?.isEmpty ?? true) { return true }
        if let e = ext["e2ee"]?["device_lists"], !(e["changed"]?.arrayValue?.isEmpty ?? true) || !(e["left"]?.arrayValue?.isEmpty ?? true) {
            return true
        }
        return ext["account_data"] != nil || ext["receipts"] != nil || ext["typing"] != nil
    }

    /// Messages after `since` (those up to it were received, so they are deleted).
    private func toDeviceExtension(_ x: ExtensionsRequest, scope: ExtensionScope) async throws -> JSON {
        let u = scope.user
        let since = x.toDeviceSince ?? 0
        if x.toDeviceSince != nil { try await userData.ackToDevice(u.userID, u.deviceID, upTo: since) }
        let msgs = try await userData.toDevice(u.userID, u.deviceID, since: since, upTo: scope.upTo, limit: x.toDeviceLimit)
        let next = msgs.count == x.toDeviceLimit ? msgs.last!.0 : max(since, scope.upTo)
        return [
            "next_batch": .string(String(next)),
            "events": .array(msgs.map { (_, sender, type, content) in
                ["sender": .string(sender), "type": .string(type), "content": (try? JSON.parse(content)) ?? [:]]
            }),
        ]
    }

    private func e2eeExtension(_ scope: ExtensionScope) async throws -> JSON {
        let u = scope.user
        let keys = KeyStore(db: db)
        // The same device-list rules as /sync.
        var changed: [String] = [], left: [String] = []
        if let from = scope.from { (changed, left) = try await deviceListDelta(u.userID, since: from, upTo: scope.upTo) }
        let otk = try await userData.oneTimeKeyCounts(u.userID, u.deviceID)
        return [
            "device_lists": ["changed": JSON(changed), "left": JSON(left)],
            "device_one_time_keys_count": .object(otk.mapValues { .int($0) }),
            "device_unused_fallback_key_types": JSON(try await keys.unusedFallbackKeyTypes(u.userID, u.deviceID)),
        ]
    }

    private func accountDataExtension(_ rooms: [String], _ scope: ExtensionScope) async throws -> JSON? {
        let userID = scope.user.userID
        let changes = try await userData.accountDataChanges(userID, since: scope.from ?? 0, upTo: scope.upTo)
        let fresh = scope.from != nil && !scope.initialRooms.isDisjoint(with: rooms)
            ? try await userData.accountDataChanges(userID, since: 0, upTo: scope.upTo) : []
        func event(_ type: String, _ content: String) -> JSON { ["type": .string(type), "content": (try? JSON.parse(content)) ?? [:]] }
        var global = changes.filter { $0.0 == "" }.map { event($0.1, $0.2) }
        // A new connection always gets the push rules, with the current server defaults.
        if scope.from == nil { global = global.filter { $0["type"] != "m.push_rules" } + [try await pushRulesAccountDataEvent(userID)] }
        var byRoom: [String: [JSON]] = [:]
        let wanted = Set(rooms)
        for (r, t, c) in changes where wanted.contains(r) { byRoom[r, default: []].append(event(t, c)) }
        for (r, t, c) in fresh where wanted.contains(r) && scope.initialRooms.contains(r) && !changes.contains(where: { $0.0 == r && $0.1 == t }) {
            byRoom[r, default: []].append(event(t, c))
        }
        guard !global.isEmpty || !byRoom.isEmpty else { return nil }
        return ["global": .array(global), "rooms": .object(byRoom.mapValues { .array($0) })]
    }

    private func receiptsExtension(_ rooms: [String], _ scope: ExtensionScope) async throws -> JSON? {
        guard !rooms.isEmpty else { return nil }
        let me = scope.user.userID
        let initial = rooms.filter { scope.from == nil || scope.initialRooms.contains($0) }
        let rest = rooms.filter { scope.from != nil && !scope.initialRooms.contains($0) }
        var all = try await userData.receipts(rooms: initial, since: 0, upTo: scope.upTo)
        if let from = scope.from { all += try await userData.receipts(rooms: rest, since: from, upTo: scope.upTo) }
        // Private receipts are for their owner only.
        all = all.filter { $0.type != "m.read.private" || $0.userID == me }
        guard !all.isEmpty else { return nil }
        var out: [String: JSON] = [:]
        for (room, rr) in Dictionary(grouping: all, by: \.roomID) { out[room] = Self.receiptEvent(rr) }
        return ["rooms": .object(out)]
    }

    static func receiptEvent(_ rr: [UserDataStore.Receipt]) -> JSON {
        var content: [String: JSON] = [:]
        for r in rr {
            var entry: [String: JSON] = ["ts": .int(r.ts)]
            if !r.threadID.isEmpty { entry["thread_id"] = .string(r.threadID) }
            var byEvent = content[r.eventID]?.objectValue ?? [:]
            var byType = byEvent[r.type]?.objectValue ?? [:]
            byType[r.userID] = .object(entry)
            byEvent[r.type] = .object(byType)
            content[r.eventID] = .object(byEvent)
        }
        return ["type": "m.receipt", "content": .object(content)]
    }

    private func typingExtension(_ rooms: [String], _ scope: ExtensionScope) async throws -> JSON? {
        guard !rooms.isEmpty else { return nil }
        let changed = try await userData.typingChanges(rooms: rooms, since: scope.from ?? 0, upTo: scope.upTo)
        var out: [String: JSON] = [:]
        for (room, users) in changed where !(users.isEmpty && scope.from == nil) {
            out[room] = ["type": "m.typing", "content": ["user_ids": JSON(users)]]
        }
        // Rooms new to the client learn who is typing now.
        if scope.from != nil {
            let fresh = rooms.filter { scope.initialRooms.contains($0) && out[$0] == nil }
            for (room, users) in try await userData.typingChanges(rooms: fresh, since: 0, upTo: scope.upTo) where !users.isEmpty {
                out[room] = ["type": "m.typing", "content": ["user_ids": JSON(users)]]
            }
        }
        return out.isEmpty ? nil : ["rooms": .object(out)]
    }
}
