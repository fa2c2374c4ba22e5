-- The person's time zone. time_zone is the IANA name they chose ('' until
-- they choose one); utc_offset_minutes is the UTC offset the browser
-- extension first reported, the default until they choose (NULL until an
-- event carried one). Analyses read hours, days and weekends in this zone.
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
--bun:split
ALTER TABLE users ADD COLUMN utc_offset_minutes INTEGER;
