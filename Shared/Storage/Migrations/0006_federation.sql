-- Federation: other servers' signing keys, fetched from their /_matrix/key/v2/server.

-- One row per key a server has published. valid_until_ts is already capped at seven days
-- after the fetch; expired_ts is set for keys published as old_verify_keys (valid only for
-- signatures made before it).
CREATE TABLE server_keys (
    server_name     TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    verify_key      TEXT NOT NULL,
    valid_until_ts  BIGINT NOT NULL,
    expired_ts      BIGINT,
    fetched_ts      BIGINT NOT NULL,
    PRIMARY KEY (server_name, key_id)
);

-- The last signed key response of each server, exactly as received, which the notary
-- endpoints serve again (with our signature added) when the server cannot be reached.
CREATE TABLE server_key_responses (
    server_name     TEXT PRIMARY KEY,
    response_json   TEXT NOT NULL,
    valid_until_ts  BIGINT NOT NULL,
    fetched_ts      BIGINT NOT NULL
);
