-- Full-text search over message bodies, room names and topics, and user presence.

-- The text a client can search an event by; the index and the queries use this one
-- definition so the index always applies.
CREATE FUNCTION myelin_search_text(event_type TEXT, event_json TEXT) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
    'SELECT to_tsvector(''simple'', COALESCE(CASE event_type
         WHEN ''m.room.message'' THEN (event_json::jsonb) -> ''content'' ->> ''body''
         WHEN ''m.room.name'' THEN (event_json::jsonb) -> ''content'' ->> ''name''
         WHEN ''m.room.topic'' THEN (event_json::jsonb) -> ''content'' ->> ''topic'' END, ''''))';

CREATE INDEX events_search ON events USING GIN (myelin_search_text(type, json))
    WHERE type IN ('m.room.message', 'm.room.name', 'm.room.topic');

CREATE TABLE presence (
    user_id         TEXT PRIMARY KEY,
    presence        TEXT NOT NULL,
    status_msg      TEXT,
    last_active_ts  BIGINT NOT NULL,
    stream_pos      BIGINT NOT NULL
);
CREATE INDEX presence_pos ON presence (stream_pos);
