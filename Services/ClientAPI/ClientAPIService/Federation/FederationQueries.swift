import FederationClient
import MatrixCore
import ServiceKit
import Storage

/// Queries other servers make about our users and rooms: profiles, aliases, devices and
/// keys, and the public room directory.
extension ClientAPI {
    func federationQueryRoutes(_ t: inout FederationRouteTable) {
        t.get("/_matrix/federation/v1/query/profile") { [self] req, _ in
            let user = try localUser(req.queryValue("user_id"))
            let field = req.queryValue("field")
            guard let record = try await accounts.user(user.rawValue), !record.deactivated else {
                throw MatrixError.notFound("Profile not found")
            }
            var profile: [String: JSON] = [:]
            if let d = record.displayname { profile["displayname"] = .string(d) }
            if let a = record.avatarURL { profile["avatar_url"] = .string(a) }
            guard let field else { return .json(.object(profile)) }
            guard let v = profile[field] else { throw MatrixError.notFound("Profile field not set") }
            return .json([field: v])
        }
        t.get("/_matrix/federation/v1/query/directory") { [self] req, _ in
            guard let raw = req.queryValue("room_alias"), let alias = RoomAlias(raw) else {
                throw MatrixError.invalidParam("room_alias must be a room alias")
            }
            guard alias.server == serverName else { throw MatrixError.invalidParam("\(raw) is not an alias of this server") }
            guard let found = try await rooms.resolveAlias(alias.rawValue) else {
                throw MatrixError.notFound("Room alias \(raw) not found.")
            }
            return .json(["room_id": .string(found.roomID), "servers": JSON(try await residentServers(found.roomID))])
        }
        t.get("/_matrix/federation/v1/user/devices/:userId") { [self] req, _ in
            let user = try localUser(try req.param("userId"))
            guard try await accounts.userExists(user.rawValue) else { throw MatrixError.notFound("Unknown user") }
            let keys = try await localKeys([user.rawValue: []], viewer: nil)
            let names = Dictionary(try await accounts.devices(user.rawValue).map { ($0.deviceID, $0.displayName) }) { a, _ in a }
            var devices: [JSON] = []
            for (deviceID, k) in (keys.devices[user.rawValue]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                var d: [String: JSON] = ["device_id": .string(deviceID), "keys": k]
                if let name = names[deviceID] ?? nil { d["device_display_name"] = .string(name) }
                devices.append(.object(d))
            }
            var body: [String: JSON] = [
                "user_id": .string(user.rawValue),
                "stream_id": .int(try await deviceListStreamID(user.rawValue)),
                "devices": .array(devices),
            ]
            if let m = keys.master[user.rawValue] { body["master_key"] = m }
            if let s = keys.selfSigning[user.rawValue] { body["self_signing_key"] = s }
            return .json(.object(body))
        }
        t.post("/_matrix/federation/v1/user/keys/query") { [self] req, _ in
            let body = try req.jsonBody()
            guard let wanted = try body.object("device_keys") else { throw MatrixError.badJSON("device_keys is required") }
            var local: [String: [String]] = [:]
            for (userID, ids) in wanted {
                guard let ids = ids.arrayValue else { throw MatrixError.badJSON("device_keys.\(userID) must be a list") }
                // Users of other servers are not ours to answer for; they are left out.
                guard let uid = UserID(userID), uid.server == serverName else { continue }
                local[userID] = ids.compactMap(\.stringValue)
            }
            let keys = try await localKeys(local, viewer: nil)
            return .json(["device_keys": .object(keys.devices), "master_keys": .object(keys.master),
                          "self_signing_keys": .object(keys.selfSigning)])
        }
        t.post("/_matrix/federation/v1/user/keys/claim") { [self] req, _ in
            let body = try req.jsonBody()
            guard let wanted = try body.object("one_time_keys") else { throw MatrixError.badJSON("one_time_keys is required") }
            var local: [String: [String: String]] = [:]
            for (userID, devices) in wanted {
                guard let devices = devices.objectValue else { throw MatrixError.badJSON("one_time_keys.\(userID) must be an object") }
                guard let uid = UserID(userID), uid.server == serverName else { continue }
                local[userID] = try devices.mapValues { a in
                    guard let a = a.stringValue else { throw MatrixError.badJSON("the algorithm must be a string") }
                    return a
                }
            }
            return .json(["one_time_keys": .object(try await claimLocalKeys(local))])
        }
        t.get("/_matrix/federation/v1/publicRooms") { [self] req, _ in
            let limit = try req.queryInt("limit")
            let query = PublicRoomsQuery(limit: limit.map { max(0, min($0, 500)) },
                                         cursor: try PublicRoomsToken.parse(req.queryValue("since")))
            return .json(try await publicRoomsPage(query))
        }
        t.post("/_matrix/federation/v1/publicRooms") { [self] req, _ in
            let body = try req.jsonBody()
            let limit = try body.int("limit").map { Int(max(0, min($0, 500))) }
            let filter = try body.object("filter")
            let roomTypes: [String?]? = try filter?.array("room_types").map { try $0.map { v in
                if v.isNull { return nil }
                guard let s = v.stringValue else { throw MatrixError.badJSON("room_types must hold strings or null") }
                return s
            } }
            let query = PublicRoomsQuery(searchTerm: try filter?.string("generic_search_term"), roomTypes: roomTypes,
                                         limit: limit, cursor: try PublicRoomsToken.parse(body.string("since")))
            return .json(try await publicRoomsPage(query))
        }
    }

    /// The servers to try for a room: ours first, then the other servers with joined members.
    func residentServers(_ roomID: String) async throws -> [String] {
        let others = try await events.joinedServers(roomID).filter { $0 != serverName.rawValue }
        return [serverName.rawValue] + others
    }

    /// The `stream_id` of a user's device list: the position of its last change.
    func deviceListStreamID(_ userID: String) async throws -> Int64 {
        for try await p in try await db.query("""
            SELECT COALESCE(MAX(stream_pos), 0) FROM device_list_changes WHERE user_id = \(userID)
            """).decode(Int64.self) { return p }
        return 0
    }
}
