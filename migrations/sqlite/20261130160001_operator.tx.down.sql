DROP TRIGGER api_tokens_user_active_upd;
--bun:split
DROP TRIGGER sessions_user_active_upd;
--bun:split
DROP TRIGGER sessions_user_active_ins;
--bun:split
DROP INDEX users_last_active_idx;
--bun:split
ALTER TABLE users DROP COLUMN last_active_at;
--bun:split
DROP TRIGGER platform_connections_fleet_count_upd;
--bun:split
DROP TRIGGER platform_connections_fleet_count_del;
--bun:split
DROP TRIGGER platform_connections_fleet_count_ins;
--bun:split
DROP TRIGGER insights_fleet_count_del;
--bun:split
DROP TRIGGER insights_fleet_count_ins;
--bun:split
DROP TRIGGER users_fleet_count_del;
--bun:split
DROP TRIGGER users_fleet_count_ins;
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
