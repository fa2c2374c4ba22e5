-- Self-healing after a configuration fix: a connection set to 'error'
-- because the provider rejected our OAuth client keeps a fingerprint of
-- the client configuration it failed with; the sweep retries it once the
-- configuration differs, and otherwise at a slow cadence.
ALTER TABLE platform_connections ADD COLUMN config_fingerprint TEXT NOT NULL DEFAULT '';
--bun:split
-- Retry-After of a token endpoint: no refresh before this time.
ALTER TABLE platform_connections ADD COLUMN refresh_not_before TIMESTAMP;
--bun:split
-- A refresh was sent but its answer never arrived (timeout, reset): the
-- provider may have rotated the refresh token. Cleared by the next success.
ALTER TABLE platform_connections ADD COLUMN refresh_outcome_unknown_at TIMESTAMP;
--bun:split
CREATE INDEX platform_connections_config_error_idx ON platform_connections (id)
    WHERE status = 'error' AND config_fingerprint <> '';
--bun:split
-- Fleet analytics: reasons of connections in trouble, sync freshness per
-- platform, new users per day, active users.
CREATE INDEX platform_connections_problem_idx ON platform_connections (platform, status, last_error)
    WHERE status IN ('error', 'needs_reauth');
--bun:split
CREATE INDEX platform_connections_platform_last_sync_idx ON platform_connections (platform, last_sync)
    WHERE status = 'connected' AND last_sync IS NOT NULL;
--bun:split
CREATE INDEX platform_connections_never_synced_idx ON platform_connections (platform)
    WHERE status = 'connected' AND last_sync IS NULL;
--bun:split
CREATE INDEX users_created_at_idx ON users (created_at);
--bun:split
-- Maintained counters: one row per (name, label, hour), incremented by an
-- UPSERT where the event happens, so fleet analytics never count big tables.
CREATE TABLE ops_counters (
    name   TEXT NOT NULL,
    label  TEXT NOT NULL DEFAULT '',
    hour   TIMESTAMP NOT NULL,
    count  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (name, hour, label)
);
--bun:split
-- Exact row counts without counting: triggers append +1/-1 rows (inserts
-- only, so concurrent writers never wait on a counter row); the
-- maintenance job folds them into one row per key.
CREATE TABLE fleet_count_deltas (
    name  TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    delta BIGINT NOT NULL
);
--bun:split
CREATE INDEX fleet_count_deltas_key_idx ON fleet_count_deltas (name, label);
--bun:split
INSERT INTO fleet_count_deltas (name, label, delta)
SELECT 'connections', platform || '/' || status, count(*) FROM platform_connections GROUP BY platform, status;
--bun:split
INSERT INTO fleet_count_deltas (name, label, delta) SELECT 'users', '', count(*) FROM users;
--bun:split
INSERT INTO fleet_count_deltas (name, label, delta) SELECT 'insights', '', count(*) FROM insights;
--bun:split
CREATE TRIGGER users_fleet_count_ins AFTER INSERT ON users BEGIN
    INSERT INTO fleet_count_deltas (name, label, delta) VALUES ('users', '', 1);
END;
--bun:split
CREATE TRIGGER users_fleet_count_del AFTER DELETE ON users BEGIN
    INSERT INTO fleet_count_deltas (name, label, delta) VALUES ('users', '', -1);
END;
--bun:split
CREATE TRIGGER insights_fleet_count_ins AFTER INSERT ON insights BEGIN
    INSERT INTO fleet_count_deltas (name, label, delta) VALUES ('insights', '', 1);
END;
--bun:split
CREATE TRIGGER insights_fleet_count_del AFTER DELETE ON insights BEGIN
    INSERT INTO fleet_count_deltas (name, label, delta) VALUES ('insights', '', -1);
END;
--bun:split
CREATE TRIGGER platform_connections_fleet_count_ins AFTER INSERT ON platform_connections BEGIN
    INSERT INTO fleet_count_deltas (name, label, delta) VALUES ('connections', NEW.platform || '/' || NEW.status, 1);
END;
--bun:split
CREATE TRIGGER platform_connections_fleet_count_del AFTER DELETE ON platform_connections BEGIN
    INSERT INTO fleet_count_deltas (name, label, delta) VALUES ('connections', OLD.platform || '/' || OLD.status, -1);
END;
--bun:split
CREATE TRIGGER platform_connections_fleet_count_upd AFTER UPDATE OF status, platform ON platform_connections
    WHEN OLD.status <> NEW.status OR OLD.platform <> NEW.platform BEGIN
    INSERT INTO fleet_count_deltas (name, label, delta) VALUES ('connections', OLD.platform || '/' || OLD.status, -1);
    INSERT INTO fleet_count_deltas (name, label, delta) VALUES ('connections', NEW.platform || '/' || NEW.status, 1);
END;
--bun:split
-- Active users without counting sessions: users.last_active_at follows the
-- newest use of a session or API token, indexed for "active in the last N
-- days".
ALTER TABLE users ADD COLUMN last_active_at TIMESTAMP;
--bun:split
UPDATE users SET last_active_at = (
    SELECT MAX(at) FROM (
        SELECT last_used_at AS at FROM sessions WHERE sessions.user_id = users.id
        UNION ALL
        SELECT last_used_at FROM api_tokens WHERE api_tokens.user_id = users.id AND last_used_at IS NOT NULL
    )
);
--bun:split
CREATE INDEX users_last_active_idx ON users (last_active_at) WHERE last_active_at IS NOT NULL;
--bun:split
CREATE TRIGGER sessions_user_active_ins AFTER INSERT ON sessions BEGIN
    UPDATE users SET last_active_at = NEW.last_used_at
    WHERE id = NEW.user_id AND (last_active_at IS NULL OR last_active_at < NEW.last_used_at);
END;
--bun:split
CREATE TRIGGER sessions_user_active_upd AFTER UPDATE OF last_used_at ON sessions BEGIN
    UPDATE users SET last_active_at = NEW.last_used_at
    WHERE id = NEW.user_id AND (last_active_at IS NULL OR last_active_at < NEW.last_used_at);
END;
--bun:split
CREATE TRIGGER api_tokens_user_active_upd AFTER UPDATE OF last_used_at ON api_tokens WHEN NEW.last_used_at IS NOT NULL BEGIN
    UPDATE users SET last_active_at = NEW.last_used_at
    WHERE id = NEW.user_id AND (last_active_at IS NULL OR last_active_at < NEW.last_used_at);
END;
