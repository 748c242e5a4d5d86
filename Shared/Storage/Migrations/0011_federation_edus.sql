-- Per user of another server, the `stream_id` of the last device-list update taken in:
-- an update whose `prev_id` is not this one means one was missed, and the user's device
-- list is fetched again from their server.
CREATE TABLE remote_device_lists (
    user_id         TEXT PRIMARY KEY,
    stream_id       BIGINT NOT NULL,
    updated_ts      BIGINT NOT NULL
);

-- OpenID tokens minted for a local user (client `POST /user/{userId}/openid/request_token`)
-- that other servers check over federation. Only a hash of the token is kept.
CREATE TABLE openid_tokens (
    token_hash      TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    expires_ts      BIGINT NOT NULL
);
CREATE INDEX openid_tokens_expiry ON openid_tokens (expires_ts);
