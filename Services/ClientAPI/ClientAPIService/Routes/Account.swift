import MatrixCore
import RoomServer
import ServiceKit
import Storage

/// Password change, deactivation, profile and devices.
extension ClientAPI {
    func accountRoutes() -> RouteTable {
        var t = RouteTable()
        t.post("/_matrix/client/v3/account/password", access: .user, rateLimited: true) { [self] req in
            let body = try req.jsonBody()
            let uid = req.user.userID
            _ = try await requireUIA(body, userID: uid, flows: [["m.login.password"]])
            let newPassword = try body.requiredString("new_password")
            guard !newPassword.isEmpty else { throw MatrixError(.badRequest, "M_WEAK_PASSWORD", "Password too weak") }
            try await accounts.setPasswordHash(uid, try await AccountStore.hashPassword(newPassword))
            if try body.bool("logout_devices") ?? true {
                let others = try await accounts.devices(uid).map(\.deviceID).filter { $0 != req.user.deviceID }
                try await accounts.deleteDevices(uid, others).map { announceDeviceChange(uid, $0, deleted: others) }
            }
            return .empty
        }
        t.post("/_matrix/client/v3/account/deactivate", access: .user, rateLimited: true) { [self] req in
            let body = try req.jsonBody()
            let uid = req.user.userID
            _ = try await requireUIA(body, userID: uid, flows: [["m.login.password"]])
            // Leave every room first so other members see it.
            for m in try await rooms.memberships(of: uid) where m.membership == "join" || m.membership == "invite" {
                _ = try? await setMembership(roomID: m.roomID, sender: uid, target: uid, membership: "leave", reason: nil)
            }
            try await accounts.deactivate(uid)
            return .json(["id_server_unbind_result": "no-support"])
        }
        t.get("/_matrix/client/v3/account/3pid") { _ in .json(["threepids": []]) }
        return t
    }

    func profileRoutes() -> RouteTable {
        var t = RouteTable()
        t.get("/_matrix/client/v3/profile/:userId", access: .optionalUser) { [self] req in
            let u = try req.param("userId")
            if let remote = UserID(u), remote.server != serverName {
                return .json(.object(try await remoteProfile(remote, field: nil)))
            }
            guard let user = try await accounts.user(u), !user.deactivated else { throw MatrixError.notFound("Profile not found") }
            var o: [String: JSON] = [:]
            if let d = user.displayname { o["displayname"] = .string(d) }
            if let a = user.avatarURL { o["avatar_url"] = .string(a) }
            return .json(.object(o))
        }
        for field in ["displayname", "avatar_url"] {
            t.get("/_matrix/client/v3/profile/:userId/\(field)", access: .optionalUser) { [self] req in
                let u = try req.param("userId")
                if let remote = UserID(u), remote.server != serverName {
                    let profile = try await remoteProfile(remote, field: field)
                    guard let v = profile[field] else { throw MatrixError.notFound("Profile field not set") }
                    return .json([field: v])
                }
                guard let user = try await accounts.user(u) else { throw MatrixError.notFound("Profile not found") }
                let v = field == "displayname" ? user.displayname : user.avatarURL
                guard let v else { throw MatrixError.notFound("Profile field not set") }
                return .json([field: .string(v)])
            }
            t.put("/_matrix/client/v3/profile/:userId/\(field)", rateLimited: true) { [self] req in
                let target = try req.param("userId")
                guard target == req.user.userID else { throw MatrixError.forbidden("Cannot set another user's profile") }
                let value = try req.jsonBody().string(field)
                if field == "displayname" { try await accounts.setDisplayname(target, value) } else { try await accounts.setAvatarURL(target, value) }
                try await propagateProfile(target)
                return .empty
            }
        }
        return t
    }

    /// Sends a new membership event with the updated profile into every joined room.
    func propagateProfile(_ userID: String) async throws {
        guard let user = try await accounts.user(userID) else { return }
        for roomID in try await rooms.joinedRooms(userID) {
            var content: [String: JSON] = ["membership": "join"]
            if let d = user.displayname { content["displayname"] = .string(d) }
            if let a = user.avatarURL { content["avatar_url"] = .string(a) }
            do {
                _ = try await roomServer.send(roomID: roomID, EventRequest(sender: userID, type: "m.room.member", stateKey: userID, content: .object(content)))
            } catch {
                logger.warning("profile update in \(roomID) failed: \(error)")
            }
        }
    }

    func deviceRoutes() -> RouteTable {
        var t = RouteTable()
        @Sendable func render(_ d: DeviceRecord) -> JSON {
            var o: [String: JSON] = ["device_id": .string(d.deviceID)]
            o["display_name"] = d.displayName.map(JSON.string) ?? .null
            o["last_seen_ts"] = d.lastSeenTS.map { .int($0) } ?? .null
            o["last_seen_ip"] = d.lastSeenIP.map(JSON.string) ?? .null
            return .object(o)
        }
        t.get("/_matrix/client/v3/devices") { [self] req in
            .json(["devices": .array(try await accounts.devices(req.user.userID).map(render))])
        }
        t.get("/_matrix/client/v3/devices/:deviceId") { [self] req in
            let id = try req.param("deviceId")
            guard let d = try await accounts.devices(req.user.userID).first(where: { $0.deviceID == id }) else {
                throw MatrixError.notFound("Device not found")
            }
            return .json(render(d))
        }
        t.put("/_matrix/client/v3/devices/:deviceId") { [self] req in
            let name = try req.jsonBody().string("display_name")
            guard try await accounts.setDeviceName(req.user.userID, try req.param("deviceId"), name) else {
                throw MatrixError.notFound("Device not found")
            }
            return .empty
        }
        t.delete("/_matrix/client/v3/devices/:deviceId") { [self] req in
            let id = try req.param("deviceId")
            _ = try await requireUIA(try req.jsonBody(), userID: req.user.userID, flows: [["m.login.password"]])
            try await accounts.deleteDevices(req.user.userID, [id]).map { announceDeviceChange(req.user.userID, $0, deleted: [id]) }
            return .empty
        }
        t.post("/_matrix/client/v3/delete_devices") { [self] req in
            let body = try req.jsonBody()
            let ids = try body.stringArray("devices") ?? []
            _ = try await requireUIA(body, userID: req.user.userID, flows: [["m.login.password"]])
            try await accounts.deleteDevices(req.user.userID, ids).map { announceDeviceChange(req.user.userID, $0, deleted: ids) }
            return .empty
        }
        return t
    }
}
