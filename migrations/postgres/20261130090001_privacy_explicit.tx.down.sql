ALTER TABLE soul_signatures DROP COLUMN narrated;
--bun:split
ALTER TABLE soul_signatures DROP COLUMN match_audience;
--bun:split
DELETE FROM privacy_settings WHERE follows OR audience = 'assistant';
--bun:split
ALTER TABLE privacy_settings DROP COLUMN follows;
