DROP TRIGGER api_tokens_user_active ON api_tokens;
--bun:split
DROP TRIGGER sessions_user_active ON sessions;
--bun:split
DROP FUNCTION twinme_user_active();
--bun:split
DROP INDEX users_last_active_idx;
--bun:split
ALTER TABLE users DROP COLUMN last_active_at;
--bun:split
DROP TRIGGER platform_connections_fleet_count_upd ON platform_connections;
--bun:split
DROP TRIGGER platform_connections_fleet_count ON platform_connections;
--bun:split
DROP TRIGGER insights_fleet_count ON insights;
--bun:split
DROP TRIGGER users_fleet_count ON users;
--bun:split
DROP FUNCTION twinme_fleet_counts();
--bun:split
DROP TABLE fleet_count_deltas;
--bun:split
DROP TABLE ops_counters;
--bun:split
DROP INDEX users_created_at_idx;
--bun:split
DROP INDEX platform_connections_never_synced_idx;
--bun:split
DROP INDEX platform_connections_platform_last_sync_idx;
--bun:split
DROP INDEX platform_connections_problem_idx;
--bun:split
DROP INDEX platform_connections_config_error_idx;
--bun:split
ALTER TABLE platform_connections DROP COLUMN refresh_outcome_unknown_at;
--bun:split
ALTER TABLE platform_connections DROP COLUMN refresh_not_before;
--bun:split
ALTER TABLE platform_connections DROP COLUMN config_fingerprint;
