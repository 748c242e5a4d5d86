-- Committing a write makes the outliers that state resolution brought into the room's state
-- part of it (placement 2 → 1, in myelin_persist_room_writes). Its plan is made once per
-- connection: with few outliers expected, the planner scanned the whole events table for
-- them on every commit, most of which bring none, until the table grew big enough for the
-- index on event_id to look cheaper (on a server of 3 000 events, a millisecond per commit,
-- half the commit's time; ten at 30 000). The outliers alone, indexed, are always the
-- cheapest way in. Only outliers enter this index, so a message's insert does not touch it.
CREATE INDEX events_outliers ON events (event_id) WHERE placement = 2;
