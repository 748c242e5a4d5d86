-- Sliding sync: a connection's confirmed view of its rooms lives under seq -1 (the base),
-- and a position holds only the rooms its response changed. Confirming a position folds
-- those few rows into the base; before, it moved every row of the parent to the new seq,
-- so each request of a client rewrote all the rooms it had ever been sent.
--
-- A position's view: its own rows over its parent's over the base (seqs only grow, so the
-- newest row of a room wins). A confirmed position's parent_seq is -1, so a reader that
-- knows only "own rows over the parent's" reads the same view.

-- Rows of one position (to fold or drop), without walking every room of the connection.
CREATE INDEX sliding_sync_rooms_seq ON sliding_sync_rooms (conn_key, seq);

-- Confirmed positions become the base.
UPDATE sliding_sync_rooms r SET seq = -1 FROM sliding_sync_positions p
WHERE p.conn_key = r.conn_key AND p.seq = r.seq AND p.parent_seq IS NULL;
UPDATE sliding_sync_positions SET parent_seq = -1 WHERE parent_seq IS NULL;

-- The first position's rooms are the base at once: a client that does not go on from it
-- starts a new connection.
CREATE OR REPLACE FUNCTION myelin_ss_open(p_user TEXT, p_device TEXT, p_conn TEXT, p_now BIGINT, p_expiry BIGINT, p_counts TEXT,
                                          p_rooms TEXT[], p_sent BIGINT[], p_configs TEXT[], p_lazy TEXT[])
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    old BIGINT[];
    k BIGINT;
BEGIN
    WITH d AS (DELETE FROM sliding_sync_connections
               WHERE user_id = p_user AND ((device_id = p_device AND conn_id = p_conn) OR last_used_ts < p_now - p_expiry)
               RETURNING conn_key)
    SELECT array_agg(conn_key) INTO old FROM d;
    IF old IS NOT NULL THEN
        DELETE FROM sliding_sync_rooms WHERE conn_key = ANY(old);
        DELETE FROM sliding_sync_positions WHERE conn_key = ANY(old);
    END IF;
    INSERT INTO sliding_sync_connections (user_id, device_id, conn_id, last_used_ts)
    VALUES (p_user, p_device, p_conn, p_now) RETURNING conn_key INTO k;
    INSERT INTO sliding_sync_positions (conn_key, seq, parent_seq, list_counts) VALUES (k, 0, -1, p_counts);
    INSERT INTO sliding_sync_rooms (conn_key, room_id, seq, sent_upto, config, lazy_members)
    SELECT k, r, -1, u, c, l FROM unnest(p_rooms, p_sent, p_configs, p_lazy) AS x(r, u, c, l);
    RETURN k;
END $$;

-- Same contract as before: the position's list counts, or NULL when the connection or the
-- position is unknown or expired. Confirming drops the position's siblings and ancestors
-- with their rows, and folds its own rows into the base.
CREATE OR REPLACE FUNCTION myelin_ss_resume(p_user TEXT, p_device TEXT, p_conn TEXT, p_key BIGINT, p_seq BIGINT,
                                            p_now BIGINT, p_expiry BIGINT)
RETURNS TEXT LANGUAGE plpgsql AS $$
DECLARE
    par BIGINT;
    counts TEXT;
    dropped BIGINT[];
BEGIN
    UPDATE sliding_sync_connections SET last_used_ts = p_now
    WHERE user_id = p_user AND device_id = p_device AND conn_id = p_conn AND conn_key = p_key
      AND last_used_ts > p_now - p_expiry;
    IF NOT FOUND THEN RETURN NULL; END IF;
    SELECT parent_seq, list_counts INTO par, counts FROM sliding_sync_positions WHERE conn_key = p_key AND seq = p_seq;
    IF NOT FOUND THEN RETURN NULL; END IF;
    WITH d AS (DELETE FROM sliding_sync_positions
               WHERE conn_key = p_key AND seq <> p_seq AND parent_seq IS DISTINCT FROM p_seq RETURNING seq)
    SELECT array_agg(seq) INTO dropped FROM d;
    IF dropped IS NOT NULL THEN
        DELETE FROM sliding_sync_rooms WHERE conn_key = p_key AND seq = ANY(dropped);
    END IF;
    IF par IS DISTINCT FROM -1 THEN
        INSERT INTO sliding_sync_rooms (conn_key, room_id, seq, sent_upto, config, lazy_members)
        SELECT conn_key, room_id, -1, sent_upto, config, lazy_members FROM sliding_sync_rooms
        WHERE conn_key = p_key AND seq = p_seq
        ON CONFLICT (conn_key, room_id, seq) DO UPDATE
            SET sent_upto = EXCLUDED.sent_upto, config = EXCLUDED.config, lazy_members = EXCLUDED.lazy_members;
        DELETE FROM sliding_sync_rooms WHERE conn_key = p_key AND seq = p_seq;
        UPDATE sliding_sync_positions SET parent_seq = -1 WHERE conn_key = p_key AND seq = p_seq;
    END IF;
    RETURN counts;
END $$;
