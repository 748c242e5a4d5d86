-- Outbound federation: per destination, the stream position up to which everything it
-- should get has been delivered (or found not to concern it). After a crash, a Redis
-- flush or an outage of the destination, the sender carries on from here.
CREATE TABLE federation_destinations (
    destination     TEXT PRIMARY KEY,
    last_pos        BIGINT NOT NULL,
    updated_ts      BIGINT NOT NULL
);
