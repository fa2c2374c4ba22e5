-- A per-user version of what the dashboard's queries read: every insert,
-- update and delete of a user's connections, privacy settings, soul
-- signature or insights bumps it in the same transaction, so a cached
-- response tagged with the version it was computed at is known current
-- when the version still matches, on every instance sharing the database
-- (graph.ResponseCache). Rows are never deleted (no foreign key, no
-- cascade): a version that went back to an old number could match a
-- stale response.
CREATE TABLE user_data_versions (
    user_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
--bun:split
CREATE TRIGGER platform_connections_data_version_ins AFTER INSERT ON platform_connections BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (NEW.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER platform_connections_data_version_upd AFTER UPDATE ON platform_connections BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (OLD.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE NEW.user_id <> OLD.user_id
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER platform_connections_data_version_del AFTER DELETE ON platform_connections BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (OLD.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER privacy_settings_data_version_ins AFTER INSERT ON privacy_settings BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (NEW.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER privacy_settings_data_version_upd AFTER UPDATE ON privacy_settings BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (OLD.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE NEW.user_id <> OLD.user_id
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER privacy_settings_data_version_del AFTER DELETE ON privacy_settings BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (OLD.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER soul_signatures_data_version_ins AFTER INSERT ON soul_signatures BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (NEW.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER soul_signatures_data_version_upd AFTER UPDATE ON soul_signatures BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (OLD.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE NEW.user_id <> OLD.user_id
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER soul_signatures_data_version_del AFTER DELETE ON soul_signatures BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (OLD.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER insights_data_version_ins AFTER INSERT ON insights BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (NEW.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER insights_data_version_upd AFTER UPDATE ON insights BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (OLD.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE NEW.user_id <> OLD.user_id
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER insights_data_version_del AFTER DELETE ON insights BEGIN
    INSERT INTO user_data_versions (user_id, version) VALUES (OLD.user_id, 1)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
