import PostgresNIO

/// Reads every sent event makes (the transaction-ID check, push-rule versions, pushers, and
/// the sender's destinations), prepared: unprepared, Postgres plans each one per message.

/// $1 room: the servers with a joined member.
struct JoinedServers: BoundStatement {
    static let sql = """
        SELECT DISTINCT substring(user_id from position(':' in user_id) + 1) FROM memberships
        WHERE room_id = $1 AND membership = 'join'
        """
    let bindings: PostgresBindings
    init(roomID: String) { bindings = bind { $0.append(roomID) } }
    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
}

/// $1 user, $2 device, $3 transaction ID.
struct TxnEventID: BoundStatement {
    static let sql = "SELECT event_id FROM event_txns WHERE user_id = $1 AND device_id = $2 AND txn_id = $3"
    let bindings: PostgresBindings
    init(_ t: TxnRef) { bindings = bind { $0.append(t.userID); $0.append(t.deviceID); $0.append(t.txnID) } }
    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
}

/// $1 users, $2 account-data type: the position of each user's latest global change of it.
struct GlobalAccountDataVersions: BoundStatement {
    static let sql = "SELECT user_id, stream_pos FROM account_data WHERE user_id = ANY($1) AND room_id = '' AND type = $2"
    let bindings: PostgresBindings
    init(users: [String], type: String) { bindings = bind { $0.append(users); $0.append(type) } }
    func decodeRow(_ row: PostgresRow) throws -> (String, Int64) { try row.decode((String, Int64).self) }
}

/// $1 users: their pushers, oldest first.
struct PushersOfUsers: BoundStatement {
    static let sql = """
        SELECT user_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag, lang, data, created_ts
        FROM pushers WHERE user_id = ANY($1) ORDER BY created_ts
        """
    let bindings: PostgresBindings
    init(users: [String]) { bindings = bind { $0.append(users) } }
    func decodeRow(_ row: PostgresRow) throws -> PusherStore.Pusher {
        let (u, a, k, kind, an, dn, pt, l, d, ts) = try row.decode(
            (String, String, String, String, String, String, String?, String, String, Int64).self)
        return PusherStore.Pusher(userID: u, appID: a, pushkey: k, kind: kind, appDisplayName: an, deviceDisplayName: dn,
                      profileTag: pt, lang: l, data: d, createdTS: ts)
    }
}
