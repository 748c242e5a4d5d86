import MatrixCore
import ServiceKit
import Storage

/// Device-list tracking shared by /sync and /keys/changes, and the wake-up after a key change.
extension ClientAPI {
    var keyStore: KeyStore { KeyStore(db: db) }

    /// Whose device lists `userID` should refetch (`changed`) or stop tracking (`left`)
    /// between two positions. `changed`: users sharing a room whose keys changed, and users
    /// who now share a room after a join. `left`: users who share no room any more after a
    /// leave (theirs or ours).
    func deviceListDelta(_ userID: String, since: Int64, upTo: Int64) async throws -> (changed: [String], left: [String]) {
        var changed = Set<String>()
        for u in try await userData.deviceListChanges(since: since, upTo: upTo) {
            if u == userID { changed.insert(u); continue }
            if try await rooms.shareRoom(u, userID) { changed.insert(u) }
        }
        var left = Set<String>()
        var checked: [String: Bool] = [:]
        for c in try await keyStore.membershipChangesAround(userID, since: since, upTo: upTo) {
            let shares: Bool
            if let known = checked[c.user] { shares = known } else {
                shares = try await rooms.shareRoom(c.user, userID)
                checked[c.user] = shares
            }
            if shares {
                if c.theirs == "join" && c.mine == "join" { changed.insert(c.user) }
            } else if ["leave", "ban"].contains(c.theirs) || ["leave", "ban"].contains(c.mine) {
                left.insert(c.user)
            }
        }
        return (changed.sorted(), left.sorted())
    }

    /// Wakes the syncs of everyone who shares a room with `userID` after its keys changed.
    func announceKeyChange(_ userID: String, _ pos: Int64) async {
        let users = (try? await keyStore.usersSharingRoom(with: userID)) ?? []
        announce(StreamNotice(pos: pos, users: Array(Set(users + [userID]))))
    }

    func isLocalUser(_ userID: String) -> Bool {
        UserID(userID)?.server.rawValue == serverName.rawValue
    }
}
