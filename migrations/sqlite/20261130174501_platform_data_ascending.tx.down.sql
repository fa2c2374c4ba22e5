CREATE INDEX user_platform_data_retention_idx ON user_platform_data (user_id, platform, occurred_at);
--bun:split
DROP INDEX user_platform_data_platform_idx;
--bun:split
CREATE INDEX user_platform_data_platform_idx ON user_platform_data (user_id, platform, occurred_at DESC, id DESC);
--bun:split
DROP INDEX user_platform_data_list_idx;
--bun:split
CREATE INDEX user_platform_data_list_idx ON user_platform_data (user_id, platform, data_type, occurred_at DESC, id DESC);
