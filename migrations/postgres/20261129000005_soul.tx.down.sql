DROP INDEX soul_observer_events_user_received_idx;
--bun:split
DROP INDEX user_platform_data_user_updated_idx;
--bun:split
DROP TABLE share_links;
--bun:split
DROP TABLE privacy_settings;
--bun:split
DROP TABLE soul_signatures;
--bun:split
DROP TABLE insights;
