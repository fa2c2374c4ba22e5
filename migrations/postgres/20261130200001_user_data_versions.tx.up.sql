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
CREATE FUNCTION twinme_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO user_data_versions AS v (user_id, version) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1;
    END IF;
    IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
        INSERT INTO user_data_versions AS v (user_id, version) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1;
    END IF;
    RETURN NULL;
END $$;
--bun:split
CREATE TRIGGER platform_connections_data_version AFTER INSERT OR UPDATE OR DELETE ON platform_connections
    FOR EACH ROW EXECUTE FUNCTION twinme_bump_data_version();
--bun:split
CREATE TRIGGER privacy_settings_data_version AFTER INSERT OR UPDATE OR DELETE ON privacy_settings
    FOR EACH ROW EXECUTE FUNCTION twinme_bump_data_version();
--bun:split
CREATE TRIGGER soul_signatures_data_version AFTER INSERT OR UPDATE OR DELETE ON soul_signatures
    FOR EACH ROW EXECUTE FUNCTION twinme_bump_data_version();
--bun:split
CREATE TRIGGER insights_data_version AFTER INSERT OR UPDATE OR DELETE ON insights
    FOR EACH ROW EXECUTE FUNCTION twinme_bump_data_version();
