-- Outbound EDUs that must not be lost (to-device messages, device-list updates): kept
-- per destination until it has accepted a transaction carrying them, so neither a
-- sender that dies nor a destination that is down for long drops them. Typing notices
-- and receipts stay in the sender's memory: they are worthless once stale.
CREATE TABLE federation_outbound_edus (
    seq             BIGSERIAL PRIMARY KEY,
    destination     TEXT NOT NULL,
    edu_json        TEXT NOT NULL,
    created_ts      BIGINT NOT NULL
);
CREATE INDEX federation_outbound_edus_by_destination ON federation_outbound_edus (destination, seq);
