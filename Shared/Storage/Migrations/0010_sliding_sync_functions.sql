-- Sliding sync connection state changes as functions: each request's bookkeeping is one
-- round trip instead of a transaction of half a dozen statements. Same semantics as the
-- statements they replace (see SlidingSyncStore).

-- A fresh connection with its first position (seq 0) and the rooms that response sent;
-- a previous connection of the same (user, device, conn_id) is dropped with its positions.
CREATE FUNCTION myelin_ss_open(p_user TEXT, p_device TEXT, p_conn TEXT, p_now BIGINT, p_counts TEXT,
                               p_rooms TEXT[], p_sent BIGINT[], p_configs TEXT[], p_lazy TEXT[])
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    old BIGINT[];
    k BIGINT;
BEGIN
    WITH d AS (DELETE FROM sliding_sync_connections
               WHERE user_id = p_user AND device_id = p_device AND conn_id = p_conn RETURNING conn_key)
    SELECT array_agg(conn_key) INTO old FROM d;
    IF old IS NOT NULL THEN
        DELETE FROM sliding_sync_rooms WHERE conn_key = ANY(old);
        DELETE FROM sliding_sync_positions WHERE conn_key = ANY(old);
    END IF;
    INSERT INTO sliding_sync_connections (user_id, device_id, conn_id, last_used_ts)
    VALUES (p_user, p_device, p_conn, p_now) RETURNING conn_key INTO k;
    INSERT INTO sliding_sync_positions (conn_key, seq, list_counts) VALUES (k, 0, p_counts);
    INSERT INTO sliding_sync_rooms (conn_key, room_id, seq, sent_upto, config, lazy_members)
    SELECT k, r, 0, u, c, l FROM unnest(p_rooms, p_sent, p_configs, p_lazy) AS x(r, u, c, l);
    RETURN k;
END $$;

-- The position a request continues from: its list counts, or NULL when the connection or
-- the position is unknown or expired. Confirms the position: what is not built on it is
-- dropped and its parent's rooms are folded into it.
CREATE FUNCTION myelin_ss_resume(p_user TEXT, p_device TEXT, p_conn TEXT, p_key BIGINT, p_seq BIGINT,
                                 p_now BIGINT, p_expiry BIGINT)
RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    par BIGINT;
    counts TEXT;
BEGIN
    UPDATE sliding_sync_connections SET last_used_ts = p_now
    WHERE user_id = p_user AND device_id = p_device AND conn_id = p_conn AND conn_key = p_key
      AND last_used_ts > p_now - p_expiry;
    IF NOT FOUND THEN RETURN NULL; END IF;
    SELECT parent_seq, list_counts INTO par, counts FROM sliding_sync_positions WHERE conn_key = p_key AND seq = p_seq;
    IF NOT FOUND THEN RETURN NULL; END IF;
    DELETE FROM sliding_sync_positions WHERE conn_key = p_key AND seq <> p_seq AND parent_seq IS DISTINCT FROM p_seq;
    DELETE FROM sliding_sync_rooms WHERE conn_key = p_key AND seq <> p_seq AND seq IS DISTINCT FROM par
      AND seq NOT IN (SELECT p.seq FROM sliding_sync_positions p WHERE p.conn_key = p_key);
    IF par IS NOT NULL THEN
        DELETE FROM sliding_sync_rooms o WHERE o.conn_key = p_key AND o.seq = par AND EXISTS (
            SELECT 1 FROM sliding_sync_rooms n WHERE n.conn_key = o.conn_key AND n.room_id = o.room_id AND n.seq = p_seq);
        UPDATE sliding_sync_rooms SET seq = p_seq WHERE conn_key = p_key AND seq = par;
        UPDATE sliding_sync_positions SET parent_seq = NULL WHERE conn_key = p_key AND seq = p_seq;
    END IF;
    RETURN counts;
END $$;

-- A response built on position `p_parent`: the new position's seq, or NULL when the
-- parent is gone (a newer request of the connection superseded this one).
CREATE FUNCTION myelin_ss_commit(p_key BIGINT, p_parent BIGINT, p_counts TEXT,
                                 p_rooms TEXT[], p_sent BIGINT[], p_configs TEXT[], p_lazy TEXT[])
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    s BIGINT;
BEGIN
    SELECT last_seq INTO s FROM sliding_sync_connections WHERE conn_key = p_key FOR UPDATE;
    IF NOT FOUND THEN RETURN NULL; END IF;
    PERFORM 1 FROM sliding_sync_positions WHERE conn_key = p_key AND seq = p_parent;
    IF NOT FOUND THEN RETURN NULL; END IF;
    s := s + 1;
    UPDATE sliding_sync_connections SET last_seq = s WHERE conn_key = p_key;
    INSERT INTO sliding_sync_positions (conn_key, seq, parent_seq, list_counts) VALUES (p_key, s, p_parent, p_counts);
    INSERT INTO sliding_sync_rooms (conn_key, room_id, seq, sent_upto, config, lazy_members)
    SELECT p_key, r, s, u, c, l FROM unnest(p_rooms, p_sent, p_configs, p_lazy) AS x(r, u, c, l);
    RETURN s;
END $$;
