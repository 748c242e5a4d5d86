import MatrixCore
import ServiceKit

extension ClientAPI {
    func discoveryRoutes() -> RouteTable {
        var t = RouteTable()
        let base = config.publicBaseURL
        let serverName = serverName.rawValue
        t.get("/.well-known/matrix/client", access: .open) { _ in
            .json(["m.homeserver": ["base_url": .string(base)]])
        }
        t.get("/.well-known/matrix/server", access: .open) { _ in
            // Federation is served on the same listener.
            .json(["m.server": .string(serverName.contains(":") ? serverName : serverName + ":443")])
        }
        t.get("/_matrix/client/versions", access: .optionalUser) { _ in
            .json([
                "versions": JSON((1...11).map { "v1.\($0)" } + ["r0.6.1"]),
                // Element X refuses servers without simplified sliding sync.
                "unstable_features": ["org.matrix.simplified_msc3575": true],
            ])
        }
        t.get("/_matrix/client/v3/capabilities") { _ in
            .json(["capabilities": [
                "m.change_password": ["enabled": true],
                "m.room_versions": [
                    "default": .string(RoomVersion.default.id),
                    "available": .object(Dictionary(uniqueKeysWithValues: RoomVersion.all.map { ($0.id, JSON("stable")) })),
                ],
                "m.set_displayname": ["enabled": true],
                "m.set_avatar_url": ["enabled": true],
                "m.3pid_changes": ["enabled": false],
                "m.get_login_token": ["enabled": false],
            ]])
        }
        return t
    }
}
