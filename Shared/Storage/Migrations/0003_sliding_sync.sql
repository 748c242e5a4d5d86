-- Simplified sliding sync: per-connection state, so any process can serve the next request.

-- One row per (user, device, conn_id). A fresh connection (no pos) gets a new conn_key,
-- which makes every pos of the previous one unknown. `last_seq` numbers the responses.
CREATE TABLE sliding_sync_connections (
    conn_key        BIGSERIAL UNIQUE,
    user_id         TEXT NOT NULL,
    device_id       TEXT NOT NULL,
    conn_id         TEXT NOT NULL,
    last_seq        BIGINT NOT NULL DEFAULT 0,
    last_used_ts    BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id, conn_id)
);

-- Positions handed out, each derived from the one its request came with (`parent_seq`).
-- A request with a pos confirms it: siblings and ancestors are then dropped, so what is
-- live is the confirmed position and the responses built on it.
CREATE TABLE sliding_sync_positions (
    conn_key        BIGINT NOT NULL,
    seq             BIGINT NOT NULL,
    parent_seq      BIGINT,
    -- List counts sent, as JSON {name: count}: a changed count ends a long-poll.
    list_counts     TEXT NOT NULL,
    PRIMARY KEY (conn_key, seq)
);

-- What a position adds to its parent's view of a room: sent up to which stream position,
-- with which room config (required_state and timeline_limit as JSON), and whose
-- memberships the client got through `$LAZY` (a JSON array), so they are not sent again.
CREATE TABLE sliding_sync_rooms (
    conn_key        BIGINT NOT NULL,
    room_id         TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    sent_upto       BIGINT NOT NULL,
    config          TEXT NOT NULL,
    lazy_members    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (conn_key, room_id, seq)
);
