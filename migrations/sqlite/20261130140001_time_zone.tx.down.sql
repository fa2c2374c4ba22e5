ALTER TABLE users DROP COLUMN utc_offset_minutes;
--bun:split
ALTER TABLE users DROP COLUMN time_zone;
