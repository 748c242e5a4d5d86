-- event_push_actions is read by (user_id, room_id, stream_pos) and (user_id, stream_pos) only;
-- its primary key (user_id, event_id) was never looked up, yet every message writes one
-- row per member to notify, and the key's index was a third of that cost. Rows stay unique by
-- construction: one per (event, user), written with the event, whose own key is unique.
-- Releases before this one never name the key (their ON CONFLICT has no target), so both
-- colours run against the schema with or without it.
ALTER TABLE event_push_actions DROP CONSTRAINT IF EXISTS event_push_actions_pkey;
