import MatrixCore
import ServiceKit
import Storage

/// Server-side key backups (spec "Server-side key backups"): versions, and keys at three levels.
extension ClientAPI {
    func keyBackupRoutes() -> RouteTable {
        var t = RouteTable()
        let backups = BackupStore(db: db)
        let base = "/_matrix/client/v3/room_keys"
        t.post("\(base)/version") { req in
            let body = try req.jsonBody()
            let algorithm = try body.requiredString("algorithm")
            guard let authData = try body.object("auth_data") else { throw MatrixError.badJSON("auth_data is required") }
            let version = try await backups.createVersion(req.user.userID, algorithm: algorithm, authData: JSON.object(authData).canonicalString)
            return .json(["version": .string(String(version))])
        }
        t.get("\(base)/version") { req in
            guard let v = try await backups.version(req.user.userID) else { throw MatrixError.notFound("No current backup version") }
            return .json(Self.render(v))
        }
        t.get("\(base)/version/:version") { req in
            guard let n = Int64(try req.param("version")), let v = try await backups.version(req.user.userID, n) else {
                throw MatrixError.notFound("Unknown backup version")
            }
            return .json(Self.render(v))
        }
        t.put("\(base)/version/:version") { req in
            let body = try req.jsonBody()
            let param = try req.param("version")
            guard let n = Int64(param), let v = try await backups.version(req.user.userID, n) else { throw MatrixError.notFound("Unknown backup version") }
            if let given = try body.string("version"), given != param { throw MatrixError.invalidParam("version does not match the path") }
            guard try body.requiredString("algorithm") == v.algorithm else { throw MatrixError.invalidParam("Algorithm does not match") }
            guard let authData = try body.object("auth_data") else { throw MatrixError.badJSON("auth_data is required") }
            guard try await backups.updateVersion(req.user.userID, n, authData: JSON.object(authData).canonicalString) else {
                throw MatrixError.notFound("Unknown backup version")
            }
            return .empty
        }
        t.delete("\(base)/version/:version") { req in
            guard let n = Int64(try req.param("version")), try await backups.deleteVersion(req.user.userID, n) else {
                throw MatrixError.notFound("Unknown backup version")
            }
            return .empty
        }
        for path in ["\(base)/keys", "\(base)/keys/:roomId", "\(base)/keys/:roomId/:sessionId"] {
            t.put(path) { req in
                let keys = try BackupKeysBody.parse(try req.json(), roomID: req.params["roomId"], sessionID: req.params["sessionId"])
                let version = try Self.backupVersion(req)
                switch try await backups.putKeys(req.user.userID, version ?? -1, keys) {
                case .stored(let etag, let count): return .json(["etag": .string(String(etag)), "count": .int(count)])
                case .noBackup: throw MatrixError.notFound("Unknown backup version")
                case .wrongVersion(let current):
                    throw MatrixError(.forbidden, "M_WRONG_ROOM_KEYS_VERSION", "Wrong backup version",
                                      extra: ["current_version": .string(String(current))])
                }
            }
            t.get(path) { req in
                let roomID = req.params["roomId"], sessionID = req.params["sessionId"]
                guard let version = try Self.backupVersion(req),
                      let keys = try await backups.keys(req.user.userID, version, roomID: roomID, sessionID: sessionID) else {
                    throw MatrixError.notFound("Unknown backup version")
                }
                if sessionID != nil {
                    guard let k = keys.first else { throw MatrixError.notFound("No room key found") }
                    return .json(BackupKeysBody.render(k))
                }
                let rooms = BackupKeysBody.render(keys)
                if let roomID { return .json(rooms[roomID] ?? ["sessions": [:]]) }
                return .json(["rooms": .object(rooms)])
            }
            t.delete(path) { req in
                guard let version = try Self.backupVersion(req),
                      let r = try await backups.deleteKeys(req.user.userID, version, roomID: req.params["roomId"], sessionID: req.params["sessionId"]) else {
                    throw MatrixError.notFound("Unknown backup version")
                }
                return .json(["etag": .string(String(r.etag)), "count": .int(r.count)])
            }
        }
        return t
    }

    /// The required `version` query parameter; nil when it cannot name any backup.
    private static func backupVersion(_ req: MatrixRequest) throws -> Int64? {
        guard let v = req.queryValue("version") else { throw MatrixError.missingParam("version is required") }
        return Int64(v)
    }

    private static func render(_ v: BackupVersion) -> JSON {
        ["version": .string(String(v.version)), "algorithm": .string(v.algorithm),
         "auth_data": (try? JSON.parse(v.authData)) ?? [:], "etag": .string(String(v.etag)), "count": .int(v.count)]
    }
}

/// The three shapes of a key upload (all rooms, one room, one session) and their rendering.
enum BackupKeysBody {
    static func parse(_ body: JSON, roomID: String?, sessionID: String?) throws -> [BackupKey] {
        if let roomID, let sessionID { return [try key(body, roomID: roomID, sessionID: sessionID)] }
        if let roomID { return try sessions(body, roomID: roomID) }
        guard let rooms = body["rooms"]?.objectValue else { throw MatrixError.badJSON("rooms is required") }
        return try rooms.flatMap { try sessions($0.value, roomID: $0.key) }
    }

    private static func sessions(_ body: JSON, roomID: String) throws -> [BackupKey] {
        guard let sessions = body["sessions"]?.objectValue else { throw MatrixError.badJSON("sessions is required") }
        return try sessions.map { try key($0.value, roomID: roomID, sessionID: $0.key) }
    }

    private static func key(_ body: JSON, roomID: String, sessionID: String) throws -> BackupKey {
        guard let o = body.objectValue else { throw MatrixError.badJSON("A key backup entry must be an object") }
        guard let first = try o.int("first_message_index"), let forwarded = try o.int("forwarded_count"),
              let verified = try o.bool("is_verified"), let data = try o.object("session_data") else {
            throw MatrixError.badJSON("A key needs first_message_index, forwarded_count, is_verified and session_data")
        }
        return BackupKey(roomID: roomID, sessionID: sessionID, firstMessageIndex: first, forwardedCount: forwarded,
                         isVerified: verified, sessionData: JSON.object(data).canonicalString)
    }

    static func render(_ k: BackupKey) -> JSON {
        ["first_message_index": .int(k.firstMessageIndex), "forwarded_count": .int(k.forwardedCount),
         "is_verified": .bool(k.isVerified), "session_data": (try? JSON.parse(k.sessionData)) ?? [:]]
    }

    /// `{roomID: {"sessions": {sessionID: key}}}`.
    static func render(_ keys: [BackupKey]) -> [String: JSON] {
        var rooms: [String: [String: JSON]] = [:]
        for k in keys { rooms[k.roomID, default: [:]][k.sessionID] = render(k) }
        return rooms.mapValues { ["sessions": .object($0)] }
    }
}
