DROP TRIGGER users_data_version_del;
--bun:split
DROP TRIGGER platform_connections_data_version_ins;
--bun:split
DROP TRIGGER platform_connections_data_version_upd;
--bun:split
DROP TRIGGER platform_connections_data_version_del;
--bun:split
DROP TRIGGER privacy_settings_data_version_ins;
--bun:split
DROP TRIGGER privacy_settings_data_version_upd;
--bun:split
DROP TRIGGER privacy_settings_data_version_del;
--bun:split
DROP TRIGGER soul_signatures_data_version_ins;
--bun:split
DROP TRIGGER soul_signatures_data_version_upd;
--bun:split
DROP TRIGGER soul_signatures_data_version_del;
--bun:split
DROP TRIGGER insights_data_version_ins;
--bun:split
DROP TRIGGER insights_data_version_upd;
--bun:split
DROP TRIGGER insights_data_version_del;
--bun:split
DROP TABLE user_data_versions;
