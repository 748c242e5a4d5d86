-- End-to-end encryption: cross-signing keys, signatures uploaded after the keys they
-- sign, and server-side room key backups. Device and one-time keys are in 0001.

-- The current cross-signing key of each kind (master, self_signing, user_signing).
CREATE TABLE cross_signing_keys (
    user_id         TEXT NOT NULL,
    key_type        TEXT NOT NULL,
    -- The unpadded Base64 public key: how signatures name it (`ed25519:<key>`).
    public_key      TEXT NOT NULL,
    key_json        TEXT NOT NULL,
    PRIMARY KEY (user_id, key_type)
);

-- Signatures added through /keys/signatures/upload, merged into the signed key when it is
-- queried. target_key is a device ID or a cross-signing public key.
CREATE TABLE key_signatures (
    target_user     TEXT NOT NULL,
    target_key      TEXT NOT NULL,
    signer_user     TEXT NOT NULL,
    signer_key_id   TEXT NOT NULL,
    signature       TEXT NOT NULL,
    PRIMARY KEY (target_user, target_key, signer_user, signer_key_id)
);

-- Backup versions count up per user and are never reused, so deleted ones stay as rows.
CREATE TABLE room_key_backups (
    user_id         TEXT NOT NULL,
    version         BIGINT NOT NULL,
    algorithm       TEXT NOT NULL,
    auth_data       TEXT NOT NULL,
    -- Bumped on every change to the stored keys; clients compare it to spot other writers.
    etag            BIGINT NOT NULL DEFAULT 0,
    deleted         BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (user_id, version)
);

CREATE TABLE room_key_backup_keys (
    user_id             TEXT NOT NULL,
    version             BIGINT NOT NULL,
    room_id             TEXT NOT NULL,
    session_id          TEXT NOT NULL,
    first_message_index BIGINT NOT NULL,
    forwarded_count     BIGINT NOT NULL,
    is_verified         BOOLEAN NOT NULL,
    session_data        TEXT NOT NULL,
    PRIMARY KEY (user_id, version, room_id, session_id)
);
