-- Rooms shared with other servers: events received over federation, invites from other
-- servers, and the transactions other servers sent us.

-- Where an event stands in the room. 0: in the timeline (and the state, for state events).
-- 1: state only, received with a join over federation: part of the state, never shown in
-- a timeline. 2: outlier, only known as an auth event of others: neither.
ALTER TABLE events ADD COLUMN placement SMALLINT NOT NULL DEFAULT 0;

-- Events other servers sent that failed their checks: rejected (they failed the auth
-- rules at their own auth events or at the state before them) or soft-failed (they failed
-- only against the current state). Kept so that they are not fetched and checked again,
-- and so that later events may still name them as prev_events.
CREATE TABLE rejected_events (
    event_id        TEXT PRIMARY KEY,
    room_id         TEXT NOT NULL,
    json            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    soft_failed     BOOLEAN NOT NULL,
    received_ts     BIGINT NOT NULL
);
CREATE INDEX rejected_events_room ON rejected_events (room_id);

-- The answer to each /send transaction, per origin: a transaction sent again gets the same
-- answer and is not processed twice.
CREATE TABLE federation_inbound_txns (
    origin          TEXT NOT NULL,
    txn_id          TEXT NOT NULL,
    response_json   TEXT NOT NULL,
    received_ts     BIGINT NOT NULL,
    PRIMARY KEY (origin, txn_id)
);

-- The stripped state another server sent with an invite of one of our users to a room we
-- are not in, for the invitee's /sync.
CREATE TABLE remote_invite_state (
    room_id         TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    state_json      TEXT NOT NULL,
    PRIMARY KEY (room_id, user_id)
);

-- Memberships by server: which rooms a server is in (federation routing).
CREATE INDEX memberships_server ON memberships ((substring(user_id from position(':' in user_id) + 1)), room_id);
