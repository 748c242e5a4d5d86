-- An incremental sync asks whether any device list changed in its range; without this the
-- question scans the whole table.
CREATE INDEX device_list_changes_pos ON device_list_changes (stream_pos);
