-- History fetched from other servers (backfill). Such events are older than everything
-- the room held when they arrive, and the timeline is read in stream order, so they take
-- positions below zero from their own descending sequence: each batch, newest (deepest)
-- first, lands below the previous one, which keeps /messages in topological order, and
-- nothing that reads forward from a non-negative position (/sync, the federation sender,
-- room activity, wake-ups) ever sees them as new.
CREATE SEQUENCE backfill_positions INCREMENT BY -1 MAXVALUE -1 START WITH -1;
