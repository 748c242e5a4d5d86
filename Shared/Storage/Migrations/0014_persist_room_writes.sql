-- A group commit of room writes as one function: the event path's transaction of a dozen
-- statements becomes one round trip, run as a single-statement transaction. Same semantics
-- as the statements it replaces (see EventStore.persist):
--   * room locks in a fixed order, then the stream lock, both held until commit;
--   * a write is accepted only if the room's last_pos is the one its writer built on (a new
--     room: the room does not exist yet) and none of its client transactions has an event;
--   * accepted events get fresh stream positions in order; everything they change (events,
--     current state, memberships, redactions, transactions, push actions, extremities, the
--     room's last position, the stream head) is written in the same transaction.
-- Writes are described by w_* arrays, their events (in write order) by e_* arrays, the new
-- extremities by x_*, push action rows by pa_* (pa_event is an index into e_*), and state
-- changes to events stored earlier by sc_*; p_stream_lock is the stream lock's key. Empty strings stand for "none" in e_* text
-- columns, as NULL elements cannot be sent in a typed array here.
-- Returns which writes were accepted and the positions of their events, in order.
CREATE FUNCTION myelin_persist_room_writes(
    w_room TEXT[], w_expected BIGINT[], w_has_expected BOOLEAN[], w_create_version TEXT[], w_creator TEXT[],
    w_events INT[], p_now BIGINT,
    e_id TEXT[], e_type TEXT[], e_is_state BOOLEAN[], e_key TEXT[], e_sender TEXT[], e_depth BIGINT[],
    e_ts BIGINT[], e_rel TEXT[], e_rel_type TEXT[], e_txn_user TEXT[], e_txn_device TEXT[], e_txn_id TEXT[],
    e_json TEXT[], e_placement SMALLINT[], e_updates_state BOOLEAN[], e_membership TEXT[], e_redacts TEXT[],
    x_write INT[], x_event TEXT[],
    pa_event INT[], pa_user TEXT[], pa_thread TEXT[], pa_highlight BOOLEAN[], pa_actions TEXT[],
    sc_write INT[], sc_event TEXT[], sc_type TEXT[], sc_key TEXT[], sc_membership TEXT[], sc_sender TEXT[],
    p_stream_lock BIGINT,
    OUT accepted BOOLEAN[], OUT positions BIGINT[])
LANGUAGE plpgsql AS $$
DECLARE
    n_w INT := coalesce(array_length(w_room, 1), 0);
    n_e INT := coalesce(array_length(e_id, 1), 0);
    known_rooms TEXT[];
    known_last BIGINT[];
    e_taken BOOLEAN[];
    e_room TEXT[];
    e_pos BIGINT[];
    w_last BIGINT[];
    fresh BIGINT[];
    first_event INT := 1;
    cnt INT;
    idx INT;
    ok BOOLEAN;
    total INT := 0;
    next_fresh INT := 1;
BEGIN
    accepted := array_fill(false, ARRAY[n_w]);
    positions := '{}';
    IF n_w = 0 THEN RETURN; END IF;
    PERFORM count(*) FROM (SELECT pg_advisory_xact_lock(hashtextextended(r, 0))
                           FROM (SELECT DISTINCT r FROM unnest(w_room) AS r) AS d ORDER BY r) AS locked;
    PERFORM pg_advisory_xact_lock(p_stream_lock);

    SELECT coalesce(array_agg(room_id), '{}'), coalesce(array_agg(last_pos), '{}') INTO known_rooms, known_last
    FROM rooms WHERE room_id = ANY(w_room);
    -- A client transaction committed by another process must not produce a second event.
    SELECT coalesce(array_agg(x.u <> '' AND EXISTS (
               SELECT 1 FROM event_txns t WHERE t.user_id = x.u AND t.device_id = x.d AND t.txn_id = x.i) ORDER BY x.o), '{}')
    INTO e_taken FROM unnest(e_txn_user, e_txn_device, e_txn_id) WITH ORDINALITY AS x(u, d, i, o);

    e_room := array_fill(NULL::TEXT, ARRAY[n_e]);
    e_pos := array_fill(NULL::BIGINT, ARRAY[n_e]);
    w_last := array_fill(NULL::BIGINT, ARRAY[n_w]);
    FOR w IN 1..n_w LOOP
        cnt := w_events[w];
        idx := array_position(known_rooms, w_room[w]);
        IF w_create_version[w] <> '' THEN
            ok := idx IS NULL;
        ELSIF idx IS NULL THEN
            ok := NOT w_has_expected[w];
        ELSE
            ok := w_has_expected[w] AND known_last[idx] = w_expected[w];
        END IF;
        IF ok AND cnt > 0 THEN
            ok := NOT (true = ANY(e_taken[first_event : first_event + cnt - 1]));
        END IF;
        accepted[w] := ok;
        FOR e IN first_event .. first_event + cnt - 1 LOOP e_room[e] := w_room[w]; END LOOP;
        IF ok AND cnt > 0 THEN
            total := total + cnt;
            -- A later write to the same room in this batch was built before these positions
            -- existed, so it cannot be current.
            IF idx IS NULL THEN
                known_rooms := known_rooms || w_room[w];
                known_last := known_last || (-1)::BIGINT;
            ELSE
                known_last[idx] := -1;
            END IF;
        END IF;
        first_event := first_event + cnt;
    END LOOP;

    IF total > 0 THEN
        SELECT array_agg(p ORDER BY p) INTO fresh
        FROM (SELECT nextval('stream_positions') AS p FROM generate_series(1, total)) AS s;
        -- Accepted events take the fresh positions in order.
        positions := fresh;
    END IF;
    first_event := 1;
    FOR w IN 1..n_w LOOP
        cnt := w_events[w];
        IF accepted[w] THEN
            FOR e IN first_event .. first_event + cnt - 1 LOOP
                e_pos[e] := fresh[next_fresh];
                next_fresh := next_fresh + 1;
            END LOOP;
            IF cnt > 0 THEN w_last[w] := e_pos[first_event + cnt - 1]; END IF;
        END IF;
        first_event := first_event + cnt;
    END LOOP;
    IF NOT (true = ANY(accepted)) THEN RETURN; END IF;

    INSERT INTO rooms (room_id, room_version, creator, created_ts, last_pos)
    SELECT w_room[w], w_create_version[w], w_creator[w], p_now, 0
    FROM generate_subscripts(w_room, 1) AS w WHERE accepted[w] AND w_create_version[w] <> '';

    INSERT INTO events (stream_pos, event_id, room_id, type, state_key, sender, depth, origin_server_ts,
                        relates_to, rel_type, txn_device, txn_id, json, placement)
    SELECT e_pos[e], e_id[e], e_room[e], e_type[e], CASE WHEN e_is_state[e] THEN e_key[e] END, e_sender[e],
           e_depth[e], e_ts[e], NULLIF(e_rel[e], ''), NULLIF(e_rel_type[e], ''), NULLIF(e_txn_device[e], ''),
           NULLIF(e_txn_id[e], ''), e_json[e], e_placement[e]
    FROM generate_subscripts(e_id, 1) AS e WHERE e_pos[e] IS NOT NULL;

    -- State resolution (or a join's state) may make events stored earlier current; they keep
    -- their own positions, and an outlier among them becomes part of the state.
    UPDATE events SET placement = 1
    WHERE placement = 2 AND event_id IN (
        SELECT sc_event[s] FROM generate_subscripts(sc_write, 1) AS s WHERE accepted[sc_write[s]]);

    -- Several changes to one key: the last one wins. State changes take the position of the
    -- write's last event; at equal positions the write's own event wins (a join stored with
    -- the state from before it replaces the member's earlier event in that state).
    INSERT INTO current_state (room_id, type, state_key, event_id, stream_pos)
    SELECT DISTINCT ON (r, t, k) r, t, k, i, p FROM (
        SELECT e_room[e] AS r, e_type[e] AS t, e_key[e] AS k, e_id[e] AS i, e_pos[e] AS p, 0 AS src
        FROM generate_subscripts(e_id, 1) AS e
        WHERE e_pos[e] IS NOT NULL AND e_updates_state[e] AND e_is_state[e]
        UNION ALL
        SELECT w_room[sc_write[s]], sc_type[s], sc_key[s], sc_event[s], coalesce(w_last[sc_write[s]], 0), 1
        FROM generate_subscripts(sc_write, 1) AS s WHERE accepted[sc_write[s]]
    ) AS changes
    ORDER BY r, t, k, p DESC, src
    ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = EXCLUDED.event_id, stream_pos = EXCLUDED.stream_pos;

    INSERT INTO memberships (room_id, user_id, membership, event_id, sender, stream_pos)
    SELECT DISTINCT ON (r, u) r, u, m, i, snd, p FROM (
        SELECT e_room[e] AS r, e_key[e] AS u, e_membership[e] AS m, e_id[e] AS i, e_sender[e] AS snd,
               e_pos[e] AS p, 0 AS src
        FROM generate_subscripts(e_id, 1) AS e
        WHERE e_pos[e] IS NOT NULL AND e_updates_state[e] AND e_is_state[e] AND e_membership[e] <> ''
        UNION ALL
        SELECT w_room[sc_write[s]], sc_key[s], sc_membership[s], sc_event[s], sc_sender[s],
               coalesce(w_last[sc_write[s]], 0), 1
        FROM generate_subscripts(sc_write, 1) AS s WHERE accepted[sc_write[s]] AND sc_membership[s] <> ''
    ) AS changes
    ORDER BY r, u, p DESC, src
    ON CONFLICT (room_id, user_id) DO UPDATE SET membership = EXCLUDED.membership, event_id = EXCLUDED.event_id,
        sender = EXCLUDED.sender, stream_pos = EXCLUDED.stream_pos, forgotten = FALSE;

    INSERT INTO redactions (redacts, redaction_id, stream_pos)
    SELECT e_redacts[e], e_id[e], e_pos[e] FROM generate_subscripts(e_id, 1) AS e
    WHERE e_pos[e] IS NOT NULL AND e_redacts[e] <> ''
    ON CONFLICT (redacts) DO NOTHING;

    INSERT INTO event_txns (user_id, device_id, txn_id, event_id, created_ts)
    SELECT e_txn_user[e], e_txn_device[e], e_txn_id[e], e_id[e], p_now FROM generate_subscripts(e_id, 1) AS e
    WHERE e_pos[e] IS NOT NULL AND e_txn_user[e] <> ''
    ON CONFLICT DO NOTHING;

    INSERT INTO event_push_actions (room_id, event_id, user_id, stream_pos, thread_id, highlight, actions_json)
    SELECT e_room[pa_event[a]], e_id[pa_event[a]], pa_user[a], e_pos[pa_event[a]], pa_thread[a], pa_highlight[a], pa_actions[a]
    FROM generate_subscripts(pa_event, 1) AS a WHERE e_pos[pa_event[a]] IS NOT NULL
    ON CONFLICT DO NOTHING;

    -- Rooms that got events replace their extremities; every accepted write adds its own.
    DELETE FROM forward_extremities
    WHERE room_id IN (SELECT w_room[w] FROM generate_subscripts(w_room, 1) AS w WHERE w_last[w] IS NOT NULL);
    INSERT INTO forward_extremities (room_id, event_id)
    SELECT w_room[x_write[x]], x_event[x] FROM generate_subscripts(x_write, 1) AS x WHERE accepted[x_write[x]]
    ON CONFLICT DO NOTHING;
    UPDATE rooms SET last_pos = w_last[w]
    FROM generate_subscripts(w_room, 1) AS w WHERE w_last[w] IS NOT NULL AND rooms.room_id = w_room[w];

    IF total > 0 THEN
        UPDATE stream_head SET pos = GREATEST(pos, fresh[total]);
    END IF;
END $$;
