-- Myelin schema, version 1.
-- Every row that a sync reader must see in order carries a position from the single
-- stream sequence, allocated under the stream write lock (see StreamWriteLock.swift),
-- so positions become visible in the order they were handed out.

CREATE SEQUENCE stream_positions;

-- The highest committed position: readers take their upper bound from here.
CREATE TABLE stream_head (
    id      BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    pos     BIGINT NOT NULL
);
INSERT INTO stream_head (pos) VALUES (0);

-- Accounts ---------------------------------------------------------------

CREATE TABLE users (
    user_id         TEXT PRIMARY KEY,
    password_hash   TEXT,
    is_admin        BOOLEAN NOT NULL DEFAULT FALSE,
    deactivated     BOOLEAN NOT NULL DEFAULT FALSE,
    displayname     TEXT,
    avatar_url      TEXT,
    created_ts      BIGINT NOT NULL
);

CREATE TABLE devices (
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    display_name    TEXT,
    last_seen_ts    BIGINT,
    last_seen_ip    TEXT,
    PRIMARY KEY (user_id, device_id)
);

-- Only a SHA-256 of each token is kept; tokens carry 256 bits of randomness.
CREATE TABLE access_tokens (
    token_hash      TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    created_ts      BIGINT NOT NULL
);
CREATE INDEX access_tokens_device ON access_tokens (user_id, device_id);

CREATE TABLE uia_sessions (
    session_id      TEXT PRIMARY KEY,
    user_id         TEXT,
    completed       TEXT[] NOT NULL DEFAULT '{}',
    created_ts      BIGINT NOT NULL
);

CREATE TABLE used_nonces (
    nonce           TEXT PRIMARY KEY,
    created_ts      BIGINT NOT NULL
);

CREATE TABLE filters (
    user_id         TEXT NOT NULL,
    filter_id       BIGSERIAL,
    filter_json     TEXT NOT NULL,
    PRIMARY KEY (user_id, filter_id)
);

-- Rooms and events ---------------------------------------------------------

CREATE TABLE rooms (
    room_id         TEXT PRIMARY KEY,
    room_version    TEXT NOT NULL,
    creator         TEXT,
    is_public       BOOLEAN NOT NULL DEFAULT FALSE,
    created_ts      BIGINT NOT NULL,
    -- Position of the last event persisted; the room actor compares it to its cache.
    last_pos        BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE events (
    stream_pos      BIGINT PRIMARY KEY,
    event_id        TEXT NOT NULL UNIQUE,
    room_id         TEXT NOT NULL,
    type            TEXT NOT NULL,
    state_key       TEXT,
    sender          TEXT NOT NULL,
    depth           BIGINT NOT NULL,
    origin_server_ts BIGINT NOT NULL,
    -- Relation target and kind (m.relates_to), for /relations and edits.
    relates_to      TEXT,
    rel_type        TEXT,
    -- The client transaction that created it, reported back to the sending device only.
    txn_device      TEXT,
    txn_id          TEXT,
    -- The PDU as canonical JSON, exactly as signed.
    json            TEXT NOT NULL
);
CREATE INDEX events_room_pos ON events (room_id, stream_pos);
CREATE INDEX events_relates ON events (relates_to, rel_type, type) WHERE relates_to IS NOT NULL;
CREATE INDEX events_room_state ON events (room_id, type, state_key, stream_pos) WHERE state_key IS NOT NULL;

CREATE TABLE redactions (
    redacts         TEXT PRIMARY KEY,
    redaction_id    TEXT NOT NULL,
    stream_pos      BIGINT NOT NULL
);

CREATE TABLE event_txns (
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    txn_id          TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    created_ts      BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id, txn_id)
);

CREATE TABLE forward_extremities (
    room_id         TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    PRIMARY KEY (room_id, event_id)
);

-- Current state of each room: one event per (type, state_key).
CREATE TABLE current_state (
    room_id         TEXT NOT NULL,
    type            TEXT NOT NULL,
    state_key       TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    stream_pos      BIGINT NOT NULL,
    PRIMARY KEY (room_id, type, state_key)
);

-- Membership of every user in every room, as in current state, with the position of
-- the change: /sync reads what changed for a user from here.
CREATE TABLE memberships (
    room_id         TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    membership      TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    sender          TEXT NOT NULL,
    stream_pos      BIGINT NOT NULL,
    forgotten       BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, membership);
CREATE INDEX memberships_user_pos ON memberships (user_id, stream_pos);

CREATE TABLE room_aliases (
    alias           TEXT PRIMARY KEY,
    room_id         TEXT NOT NULL,
    creator         TEXT NOT NULL
);
CREATE INDEX room_aliases_room ON room_aliases (room_id);

-- Ephemeral and per-user streams ------------------------------------------

CREATE TABLE receipts (
    room_id         TEXT NOT NULL,
    receipt_type    TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    thread_id       TEXT NOT NULL DEFAULT '',
    event_id        TEXT NOT NULL,
    ts              BIGINT NOT NULL,
    stream_pos      BIGINT NOT NULL,
    PRIMARY KEY (room_id, receipt_type, user_id, thread_id)
);
CREATE INDEX receipts_pos ON receipts (room_id, stream_pos);

CREATE TABLE typing (
    room_id         TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    expires_ts      BIGINT NOT NULL,
    stream_pos      BIGINT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);
CREATE INDEX typing_pos ON typing (room_id, stream_pos);

-- room_id '' is global account data.
CREATE TABLE account_data (
    user_id         TEXT NOT NULL,
    room_id         TEXT NOT NULL DEFAULT '',
    type            TEXT NOT NULL,
    content         TEXT NOT NULL,
    stream_pos      BIGINT NOT NULL,
    PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX account_data_pos ON account_data (user_id, stream_pos);

CREATE TABLE to_device (
    stream_pos      BIGINT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    sender          TEXT NOT NULL,
    type            TEXT NOT NULL,
    content         TEXT NOT NULL
);
CREATE INDEX to_device_target ON to_device (user_id, device_id, stream_pos);

CREATE TABLE to_device_txns (
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    txn_id          TEXT NOT NULL,
    created_ts      BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id, txn_id)
);

-- A user whose devices or keys changed, at a position.
CREATE TABLE device_list_changes (
    stream_pos      BIGINT PRIMARY KEY,
    user_id         TEXT NOT NULL
);
CREATE INDEX device_list_changes_user ON device_list_changes (user_id, stream_pos);

CREATE TABLE device_keys (
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    key_json        TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

CREATE TABLE one_time_keys (
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    algorithm       TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    key_json        TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id, algorithm, key_id)
);

CREATE TABLE fallback_keys (
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    algorithm       TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    key_json        TEXT NOT NULL,
    used            BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (user_id, device_id, algorithm)
);

-- Push ------------------------------------------------------------------------

-- User-defined rules and overrides of default rules. kind: override, content, room, sender, underride.
CREATE TABLE push_rules (
    user_id         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    rule_id         TEXT NOT NULL,
    priority        BIGINT NOT NULL DEFAULT 0,
    rule_json       TEXT,
    enabled         BOOLEAN,
    actions_json    TEXT,
    PRIMARY KEY (user_id, kind, rule_id)
);

-- Notification counts, written when an event is persisted.
CREATE TABLE event_push_actions (
    room_id         TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    stream_pos      BIGINT NOT NULL,
    thread_id       TEXT NOT NULL DEFAULT 'main',
    highlight       BOOLEAN NOT NULL,
    actions_json    TEXT NOT NULL,
    PRIMARY KEY (user_id, event_id)
);
CREATE INDEX event_push_actions_room ON event_push_actions (user_id, room_id, stream_pos);

CREATE TABLE reports (
    id              BIGSERIAL PRIMARY KEY,
    user_id         TEXT NOT NULL,
    room_id         TEXT NOT NULL,
    event_id        TEXT,
    reason          TEXT,
    score           BIGINT,
    created_ts      BIGINT NOT NULL
);

-- Server keys -------------------------------------------------------------------

CREATE TABLE leases (
    name            TEXT PRIMARY KEY,
    holder          TEXT NOT NULL,
    expires_ts      BIGINT NOT NULL
);
