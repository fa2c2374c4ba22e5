DROP TRIGGER users_data_version ON users;
--bun:split
DROP TRIGGER platform_connections_data_version ON platform_connections;
--bun:split
DROP TRIGGER privacy_settings_data_version ON privacy_settings;
--bun:split
DROP TRIGGER soul_signatures_data_version ON soul_signatures;
--bun:split
DROP TRIGGER insights_data_version ON insights;
--bun:split
DROP FUNCTION twinme_drop_data_version();
--bun:split
DROP FUNCTION twinme_bump_data_version();
--bun:split
DROP TABLE user_data_versions;
