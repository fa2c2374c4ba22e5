DROP INDEX platform_connections_next_sync_idx;
--bun:split
DROP TABLE platform_sync_state;
--bun:split
DROP TABLE observer_settings;
--bun:split
DROP TABLE soul_observer_events;
--bun:split
DROP TABLE user_platform_data;
