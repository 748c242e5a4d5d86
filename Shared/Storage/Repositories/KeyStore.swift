import Logging
import PostgresNIO

/// One key as uploaded: its algorithm, its full ID (`algorithm:id`) and its JSON.
public struct UploadedKey: Sendable, Equatable {
    public let algorithm: String
    public let keyID: String
    public let json: String
    public init(algorithm: String, keyID: String, json: String) {
        self.algorithm = algorithm
        self.keyID = keyID
        self.json = json
    }
}

/// A signature added after the key it signs was uploaded.
public struct KeySignature: Sendable, Equatable {
    public let targetUser: String
    /// A device ID or a cross-signing public key.
    public let targetKey: String
    public let signerUser: String
    public let signerKeyID: String
    public let signature: String
    public init(targetUser: String, targetKey: String, signerUser: String, signerKeyID: String, signature: String) {
        self.targetUser = targetUser
        self.targetKey = targetKey
        self.signerUser = signerUser
        self.signerKeyID = signerKeyID
        self.signature = signature
    }
}

public struct StoredDeviceKeys: Sendable {
    public let deviceID: String
    public let json: String
    public let displayName: String?
}

public enum KeyStoreError: Error, Sendable, Equatable {
    /// A one-time key ID reused with different content.
    case oneTimeKeyConflict(String)
}

/// Device keys, one-time and fallback keys, cross-signing keys and their signatures. Every
/// change others must notice writes a `device_list_changes` row at a new stream position.
public struct KeyStore: Sendable {
    let db: Database
    public init(db: Database) { self.db = db }

    // MARK: upload

    /// Stores what a device uploaded. Returns the position of the device-list change, if the
    /// device keys changed.
    public func upload(userID: String, deviceID: String, deviceKeys: String?,
                       oneTimeKeys: [UploadedKey], fallbackKeys: [UploadedKey]) async throws -> Int64? {
        let log = db.logger
        return try await db.streamTransaction { conn, sw in
            try await insertOneTimeKeys(conn, userID, deviceID, oneTimeKeys)
            for k in fallbackKeys {
                // Re-uploading the same key keeps its used flag; a new key starts unused.
                try await conn.query("""
                    INSERT INTO fallback_keys (user_id, device_id, algorithm, key_id, key_json, used)
                    VALUES (\(userID), \(deviceID), \(k.algorithm), \(k.keyID), \(k.json), FALSE)
                    ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET key_id = EXCLUDED.key_id,
                        key_json = EXCLUDED.key_json,
                        used = fallback_keys.used AND fallback_keys.key_id = EXCLUDED.key_id
                                                  AND fallback_keys.key_json = EXCLUDED.key_json
                    """, logger: log)
            }
            guard let deviceKeys else { return (nil, nil) }
            let old = try await conn.rows("""
                SELECT key_json FROM device_keys WHERE user_id = \(userID) AND device_id = \(deviceID)
                """, logger: log).first.map { try $0.decode(String.self) }
            guard old != deviceKeys else { return (nil, nil) }
            let pos = try await sw.allocateOne()
            try await conn.query("""
                INSERT INTO device_keys (user_id, device_id, key_json) VALUES (\(userID), \(deviceID), \(deviceKeys))
                ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = EXCLUDED.key_json
                """, logger: log)
            // Signatures made over the old keys (or a deleted device of the same ID) no longer hold.
            try await conn.query("DELETE FROM key_signatures WHERE target_user = \(userID) AND target_key = \(deviceID)", logger: log)
            try await conn.query("INSERT INTO device_list_changes (stream_pos, user_id) VALUES (\(pos), \(userID))", logger: log)
            return (pos, pos)
        }
    }

    private func insertOneTimeKeys(_ conn: PostgresConnection, _ userID: String, _ deviceID: String, _ keys: [UploadedKey]) async throws {
        guard !keys.isEmpty else { return }
        let log = db.logger
        // The same key uploaded twice (a retried request) is fine; a reused ID with new content is not.
        let existing = try await conn.rows("""
            SELECT key_id, key_json FROM one_time_keys
            WHERE user_id = \(userID) AND device_id = \(deviceID) AND key_id = ANY(\(keys.map(\.keyID)))
            """, logger: log)
        var stored: [String: String] = [:]
        for row in existing {
            let (id, json) = try row.decode((String, String).self)
            stored[id] = json
        }
        for k in keys where stored[k.keyID] != nil && stored[k.keyID] != k.json {
            throw KeyStoreError.oneTimeKeyConflict(k.keyID)
        }
        try await conn.query("""
            INSERT INTO one_time_keys (user_id, device_id, algorithm, key_id, key_json)
            SELECT \(userID), \(deviceID), a, k, j FROM unnest(\(keys.map(\.algorithm))::text[],
                \(keys.map(\.keyID))::text[], \(keys.map(\.json))::text[]) AS x(a, k, j)
            ON CONFLICT DO NOTHING
            """, logger: log)
    }

    public func deviceKeys(_ userID: String, _ deviceID: String) async throws -> String? {
        try await db.rows("SELECT key_json FROM device_keys WHERE user_id = \(userID) AND device_id = \(deviceID)")
            .first.map { try $0.decode(String.self) }
    }

    /// Device keys of a user's devices (all of them when `deviceIDs` is empty), with display names.
    public func deviceKeys(of userID: String, deviceIDs: [String]) async throws -> [StoredDeviceKeys] {
        let rows = try await db.rows("""
            SELECT k.device_id, k.key_json, d.display_name FROM device_keys k
            JOIN devices d ON d.user_id = k.user_id AND d.device_id = k.device_id
            WHERE k.user_id = \(userID) AND (cardinality(\(deviceIDs)::text[]) = 0 OR k.device_id = ANY(\(deviceIDs)))
            """)
        return try rows.map { row in
            let (d, j, n) = try row.decode((String, String, String?).self)
            return StoredDeviceKeys(deviceID: d, json: j, displayName: n)
        }
    }

    public func unusedFallbackKeyTypes(_ userID: String, _ deviceID: String) async throws -> [String] {
        try await db.rows("""
            SELECT algorithm FROM fallback_keys WHERE user_id = \(userID) AND device_id = \(deviceID) AND NOT used ORDER BY algorithm
            """).map { try $0.decode(String.self) }
    }

    /// A device's one-time key counts and unused fallback key types together, as every sync
    /// response carries both: one round trip instead of two.
    public func syncKeyCounts(_ userID: String, _ deviceID: String) async throws -> (oneTime: [String: Int64], unusedFallback: [String]) {
        var counts: [String: Int64] = [:], fallback: [String] = []
        for try await (alg, n, isFallback) in try await db.client.execute(DeviceKeyCounts(userID: userID, deviceID: deviceID), logger: db.logger) {
            if isFallback { fallback.append(alg) } else { counts[alg] = n }
        }
        return (counts, fallback.sorted())
    }

    // MARK: claim

    /// Takes one one-time key of `algorithm` from the device, or else marks its fallback key
    /// used and returns it. Concurrent claimers never get the same one-time key.
    public func claim(_ userID: String, _ deviceID: String, algorithm: String) async throws -> UploadedKey? {
        let taken = try await db.rows("""
            DELETE FROM one_time_keys WHERE (user_id, device_id, algorithm, key_id) IN (
                SELECT user_id, device_id, algorithm, key_id FROM one_time_keys
                WHERE user_id = \(userID) AND device_id = \(deviceID) AND algorithm = \(algorithm)
                ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING key_id, key_json
            """)
        if let row = taken.first {
            let (id, json) = try row.decode((String, String).self)
            return UploadedKey(algorithm: algorithm, keyID: id, json: json)
        }
        let fallback = try await db.rows("""
            UPDATE fallback_keys SET used = TRUE WHERE user_id = \(userID) AND device_id = \(deviceID) AND algorithm = \(algorithm)
            RETURNING key_id, key_json
            """)
        guard let row = fallback.first else { return nil }
        let (id, json) = try row.decode((String, String).self)
        return UploadedKey(algorithm: algorithm, keyID: id, json: json)
    }

    // MARK: cross-signing

    /// The user's cross-signing keys by type: (public key, JSON).
    public func crossSigningKeys(_ userID: String) async throws -> [String: (publicKey: String, json: String)] {
        var out: [String: (String, String)] = [:]
        for row in try await db.rows("SELECT key_type, public_key, key_json FROM cross_signing_keys WHERE user_id = \(userID)") {
            let (t, p, j) = try row.decode((String, String, String).self)
            out[t] = (p, j)
        }
        return out
    }

    /// Replaces the given cross-signing keys. Signatures made by or on a replaced key are
    /// dropped with it: they vouch for a key that is gone.
    public func setCrossSigningKeys(_ userID: String, _ keys: [String: (publicKey: String, json: String)]) async throws -> Int64 {
        let log = db.logger
        return try await db.writeAtNewPosition { conn, pos in
            for (type, key) in keys {
                let old = try await conn.rows("""
                    SELECT public_key FROM cross_signing_keys WHERE user_id = \(userID) AND key_type = \(type)
                    """, logger: log).first.map { try $0.decode(String.self) }
                if let old, old != key.publicKey {
                    try await conn.query("""
                        DELETE FROM key_signatures WHERE (target_user = \(userID) AND target_key = \(old))
                           OR (signer_user = \(userID) AND signer_key_id = \("ed25519:" + old))
                        """, logger: log)
                }
                try await conn.query("""
                    INSERT INTO cross_signing_keys (user_id, key_type, public_key, key_json)
                    VALUES (\(userID), \(type), \(key.publicKey), \(key.json))
                    ON CONFLICT (user_id, key_type) DO UPDATE SET public_key = EXCLUDED.public_key, key_json = EXCLUDED.key_json
                    """, logger: log)
            }
            try await conn.query("INSERT INTO device_list_changes (stream_pos, user_id) VALUES (\(pos), \(userID))", logger: log)
        }
    }

    /// Stores signatures and records a device-list change for every user whose keys gained one.
    public func addSignatures(_ signatures: [KeySignature]) async throws -> Int64? {
        guard !signatures.isEmpty else { return nil }
        let log = db.logger
        let targets = Array(Set(signatures.map(\.targetUser))).sorted()
        return try await db.streamTransaction { conn, sw in
            for s in signatures {
                try await conn.query("""
                    INSERT INTO key_signatures (target_user, target_key, signer_user, signer_key_id, signature)
                    VALUES (\(s.targetUser), \(s.targetKey), \(s.signerUser), \(s.signerKeyID), \(s.signature))
                    ON CONFLICT (target_user, target_key, signer_user, signer_key_id) DO UPDATE SET signature = EXCLUDED.signature
                    """, logger: log)
            }
            let positions = try await sw.allocate(targets.count)
            try await conn.query("""
                INSERT INTO device_list_changes (stream_pos, user_id) SELECT p, u FROM unnest(\(positions)::int8[], \(targets)::text[]) AS x(p, u)
                """, logger: log)
            return (positions.last, positions.last)
        }
    }

    /// Stored signatures on a user's keys, as seen by `viewer`: signatures by the key's owner,
    /// and the viewer's own (another user's user-signing signatures are private to them).
    public func signatures(on userID: String, viewer: String) async throws -> [KeySignature] {
        try await db.rows("""
            SELECT target_key, signer_user, signer_key_id, signature FROM key_signatures
            WHERE target_user = \(userID) AND (signer_user = \(userID) OR signer_user = \(viewer))
            """).map { row in
            let (k, u, id, s) = try row.decode((String, String, String, String).self)
            return KeySignature(targetUser: userID, targetKey: k, signerUser: u, signerKeyID: id, signature: s)
        }
    }

    /// Records that another server's user changed their devices, so local users sharing a
    /// room refetch them; returns the position.
    public func recordRemoteDeviceListChange(_ userID: String) async throws -> Int64 {
        try await db.writeAtNewPosition { conn, pos in
            try await conn.query("INSERT INTO device_list_changes (stream_pos, user_id) VALUES (\(pos), \(userID))", logger: db.logger)
        }
    }

    /// The position of the user's last device-list change before `pos` (0 for none).
    public func deviceListPosition(_ userID: String, before pos: Int64) async throws -> Int64 {
        try await db.rows("""
            SELECT COALESCE(MAX(stream_pos), 0) FROM device_list_changes WHERE user_id = \(userID) AND stream_pos < \(pos)
            """).first.map { try $0.decode(Int64.self) } ?? 0
    }

    // MARK: who cares

    /// Users who share a joined room with `userID` (the user included): whose syncs must wake
    /// when the user's keys change.
    public func usersSharingRoom(with userID: String) async throws -> [String] {
        try await db.rows("""
            SELECT DISTINCT b.user_id FROM memberships a JOIN memberships b ON a.room_id = b.room_id
            WHERE a.user_id = \(userID) AND a.membership = 'join' AND b.membership = 'join'
            """).map { try $0.decode(String.self) }
    }

    /// Users whose membership, or whose rooms shared with `userID`, changed in (since, upTo]:
    /// (user, their current membership in that room, `userID`'s current membership there).
    public func membershipChangesAround(_ userID: String, since: Int64, upTo: Int64) async throws -> [(user: String, theirs: String, mine: String)] {
        try await db.rows("""
            SELECT o.user_id, o.membership, me.membership FROM memberships me JOIN memberships o ON o.room_id = me.room_id
            WHERE me.user_id = \(userID) AND o.user_id <> \(userID)
              AND ((o.stream_pos > \(since) AND o.stream_pos <= \(upTo)) OR (me.stream_pos > \(since) AND me.stream_pos <= \(upTo)))
            """).map { row in
            let (u, t, m) = try row.decode((String, String, String).self)
            return (u, t, m)
        }
    }
}
