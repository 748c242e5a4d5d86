-- Notifications stored per event, not per member. A message usually notifies every local
-- member but its sender alike (the default rules: notify, no highlight); one row per such
-- member per message was half the cost of committing it. Now such an event has one row in
-- event_notifications: its common actions, for every local member joined when it was sent,
-- except its sender and the members listed in `excluded` (not notified, or notified
-- otherwise). Members notified otherwise (a mention's highlight, own rules) keep their rows
-- in event_push_actions, as every notification had before; readers add both up through
-- myelin_room_notifications. Older rows stay valid as they are, and a release writing only
-- event_push_actions (the other colour during a switch) is still read right.
CREATE TABLE event_notifications (
    room_id         TEXT NOT NULL,
    stream_pos      BIGINT NOT NULL,
    event_id        TEXT NOT NULL,
    sender          TEXT NOT NULL,
    thread_id       TEXT NOT NULL,
    highlight       BOOLEAN NOT NULL,
    actions_json    TEXT NOT NULL,
    excluded        TEXT[] NOT NULL,
    PRIMARY KEY (room_id, stream_pos)
);

-- Where a member's current run of being joined began: the events after it are the ones an
-- event_notifications row can mean them for. Kept by a trigger so that every writer of
-- memberships (either colour) keeps it; NULL for rows joined before this release, whose
-- readers fall back to stream_pos (no event_notifications row predates them).
ALTER TABLE memberships ADD COLUMN joined_pos BIGINT;

CREATE FUNCTION myelin_memberships_joined_pos() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.membership <> 'join' THEN
        NEW.joined_pos := NULL;
    ELSIF TG_OP = 'UPDATE' AND OLD.membership = 'join' THEN
        NEW.joined_pos := coalesce(OLD.joined_pos, OLD.stream_pos);
    ELSE
        NEW.joined_pos := NEW.stream_pos;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER memberships_joined_pos BEFORE INSERT OR UPDATE ON memberships
    FOR EACH ROW EXECUTE FUNCTION myelin_memberships_joined_pos();

-- One user's notifications in one room: their own rows and the events that notify every
-- joined member alike. A single SELECT, so the planner inlines it and pushes the callers'
-- stream_pos bounds into both halves.
CREATE FUNCTION myelin_room_notifications(p_user TEXT, p_room TEXT)
RETURNS TABLE (event_id TEXT, stream_pos BIGINT, thread_id TEXT, highlight BOOLEAN, actions_json TEXT)
LANGUAGE sql STABLE AS $$
    SELECT a.event_id, a.stream_pos, a.thread_id, a.highlight, a.actions_json
    FROM event_push_actions a WHERE a.user_id = p_user AND a.room_id = p_room
    UNION ALL
    SELECT n.event_id, n.stream_pos, n.thread_id, n.highlight, n.actions_json
    FROM memberships m JOIN event_notifications n
      ON n.room_id = m.room_id AND n.stream_pos > coalesce(m.joined_pos, m.stream_pos)
    WHERE m.room_id = p_room AND m.user_id = p_user AND m.membership = 'join'
      AND n.sender <> p_user AND NOT (p_user = ANY(n.excluded))
$$;

-- myelin_persist_room_writes (0014) and, in the same transaction, the events' shared
-- notifications: n_event indexes e_*, and each event's excluded members are the next
-- n_excluded_count of n_excluded.
CREATE FUNCTION myelin_persist_room_writes_notifying(
    w_room TEXT[], w_expected BIGINT[], w_has_expected BOOLEAN[], w_create_version TEXT[], w_creator TEXT[],
    w_events INT[], p_now BIGINT,
    e_id TEXT[], e_type TEXT[], e_is_state BOOLEAN[], e_key TEXT[], e_sender TEXT[], e_depth BIGINT[],
    e_ts BIGINT[], e_rel TEXT[], e_rel_type TEXT[], e_txn_user TEXT[], e_txn_device TEXT[], e_txn_id TEXT[],
    e_json TEXT[], e_placement SMALLINT[], e_updates_state BOOLEAN[], e_membership TEXT[], e_redacts TEXT[],
    x_write INT[], x_event TEXT[],
    pa_event INT[], pa_user TEXT[], pa_thread TEXT[], pa_highlight BOOLEAN[], pa_actions TEXT[],
    sc_write INT[], sc_event TEXT[], sc_type TEXT[], sc_key TEXT[], sc_membership TEXT[], sc_sender TEXT[],
    p_stream_lock BIGINT,
    n_event INT[], n_thread TEXT[], n_highlight BOOLEAN[], n_actions TEXT[], n_excluded_count INT[], n_excluded TEXT[],
    OUT accepted BOOLEAN[], OUT positions BIGINT[])
LANGUAGE plpgsql AS $$
DECLARE
    n_w INT := coalesce(array_length(w_room, 1), 0);
    e_pos BIGINT[] := array_fill(NULL::BIGINT, ARRAY[coalesce(array_length(e_id, 1), 0)]);
    e_room TEXT[] := array_fill(NULL::TEXT, ARRAY[coalesce(array_length(e_id, 1), 0)]);
    first_event INT := 1;
    next_pos INT := 1;
BEGIN
    SELECT r.accepted, r.positions INTO accepted, positions FROM myelin_persist_room_writes(
        w_room, w_expected, w_has_expected, w_create_version, w_creator, w_events, p_now,
        e_id, e_type, e_is_state, e_key, e_sender, e_depth, e_ts, e_rel, e_rel_type, e_txn_user, e_txn_device,
        e_txn_id, e_json, e_placement, e_updates_state, e_membership, e_redacts, x_write, x_event,
        pa_event, pa_user, pa_thread, pa_highlight, pa_actions,
        sc_write, sc_event, sc_type, sc_key, sc_membership, sc_sender, p_stream_lock) AS r;
    IF coalesce(array_length(n_event, 1), 0) = 0 OR NOT (true = ANY(accepted)) THEN RETURN; END IF;
    -- Accepted writes' events took the positions in order, as 0014 hands them out.
    FOR w IN 1..n_w LOOP
        FOR e IN first_event .. first_event + w_events[w] - 1 LOOP
            e_room[e] := w_room[w];
            IF accepted[w] THEN
                e_pos[e] := positions[next_pos];
                next_pos := next_pos + 1;
            END IF;
        END LOOP;
        first_event := first_event + w_events[w];
    END LOOP;
    INSERT INTO event_notifications (room_id, stream_pos, event_id, sender, thread_id, highlight, actions_json, excluded)
    SELECT e_room[n_event[s.i]], e_pos[n_event[s.i]], e_id[n_event[s.i]], e_sender[n_event[s.i]], n_thread[s.i],
           n_highlight[s.i], n_actions[s.i], coalesce(n_excluded[s.start : s.start + n_excluded_count[s.i] - 1], '{}')
    FROM (SELECT i, (sum(n_excluded_count[i]) OVER (ORDER BY i) - n_excluded_count[i] + 1)::INT AS start
          FROM generate_subscripts(n_event, 1) AS i) AS s
    WHERE e_pos[n_event[s.i]] IS NOT NULL
    ON CONFLICT DO NOTHING;
END $$;
