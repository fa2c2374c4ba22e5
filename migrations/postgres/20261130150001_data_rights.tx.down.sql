ALTER TABLE soul_signatures DROP COLUMN data_to;
--bun:split
ALTER TABLE soul_signatures DROP COLUMN data_from;
--bun:split
DROP INDEX user_platform_data_retention_idx;
--bun:split
DROP TABLE data_retention;
--bun:split
DROP TABLE twin_access_log;
--bun:split
DROP TABLE data_exports;
