-- A per-user version of what the dashboard's queries read: every insert,
-- update and delete of a user's connections, privacy settings, soul
-- signature or insights bumps it in the same transaction, so a cached
-- response tagged with the version it was computed at is known current
-- when the version still matches, on every instance sharing the database
-- (graph.ResponseCache). A row goes only with its user (deleting the user
-- deletes it; writes cascading from that deletion find no user and leave
-- none behind): a user id is never reused and a deleted user signs in
-- nowhere, so a version can never go back to a number a cached response
-- of a live user was tagged with.
CREATE TABLE user_data_versions (
    user_id TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
--bun:split
CREATE TRIGGER users_data_version_del AFTER DELETE ON users BEGIN
    DELETE FROM user_data_versions WHERE user_id = OLD.id;
END;
--bun:split
CREATE TRIGGER platform_connections_data_version_ins AFTER INSERT ON platform_connections BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER platform_connections_data_version_upd AFTER UPDATE ON platform_connections BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT OLD.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id) AND NEW.user_id <> OLD.user_id
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER platform_connections_data_version_del AFTER DELETE ON platform_connections BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT OLD.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER privacy_settings_data_version_ins AFTER INSERT ON privacy_settings BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER privacy_settings_data_version_upd AFTER UPDATE ON privacy_settings BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT OLD.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id) AND NEW.user_id <> OLD.user_id
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER privacy_settings_data_version_del AFTER DELETE ON privacy_settings BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT OLD.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER soul_signatures_data_version_ins AFTER INSERT ON soul_signatures BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER soul_signatures_data_version_upd AFTER UPDATE ON soul_signatures BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT OLD.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id) AND NEW.user_id <> OLD.user_id
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER soul_signatures_data_version_del AFTER DELETE ON soul_signatures BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT OLD.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER insights_data_version_ins AFTER INSERT ON insights BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER insights_data_version_upd AFTER UPDATE ON insights BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT OLD.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
    INSERT INTO user_data_versions (user_id, version) SELECT NEW.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = NEW.user_id) AND NEW.user_id <> OLD.user_id
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
--bun:split
CREATE TRIGGER insights_data_version_del AFTER DELETE ON insights BEGIN
    INSERT INTO user_data_versions (user_id, version) SELECT OLD.user_id, 1 WHERE EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)
    ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
