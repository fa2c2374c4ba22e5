-- Data exports: one row per requested archive. The file lives under the
-- export directory as <id>.zip (never named after the user); only the
-- SHA-256 of the download token is stored. A user has at most one export
-- pending or running at a time.
CREATE TABLE data_exports (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status        TEXT NOT NULL
        CHECK (status IN ('pending', 'running', 'ready', 'failed', 'downloaded', 'expired')),
    items_total   BIGINT NOT NULL DEFAULT 0,
    items_done    BIGINT NOT NULL DEFAULT 0,
    size_bytes    BIGINT NOT NULL DEFAULT 0,
    token_hash    TEXT,
    error_message TEXT NOT NULL DEFAULT '',
    instance      TEXT NOT NULL DEFAULT '',
    -- A running export beats this while it writes; a stale one (its
    -- instance died) is failed by the maintenance job.
    heartbeat_at  TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    started_at    TIMESTAMP,
    finished_at   TIMESTAMP,
    expires_at    TIMESTAMP NOT NULL,
    downloaded_at TIMESTAMP
);
--bun:split
CREATE INDEX data_exports_user_idx ON data_exports (user_id, created_at DESC);
--bun:split
CREATE UNIQUE INDEX data_exports_active_key ON data_exports (user_id) WHERE status IN ('pending', 'running');
--bun:split
CREATE INDEX data_exports_pending_idx ON data_exports (created_at) WHERE status = 'pending';
--bun:split
CREATE INDEX data_exports_expires_idx ON data_exports (expires_at) WHERE status IN ('ready', 'failed', 'pending', 'running');
--bun:split
-- Who saw a twin: every non-owner view through a share link. No raw
-- address is stored: client_hash is a truncated HMAC of the address keyed
-- per owner, user_agent_family a coarse browser/OS name.
CREATE TABLE twin_access_log (
    id                TEXT PRIMARY KEY,
    owner_user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    share_link_id     TEXT NOT NULL REFERENCES share_links (id) ON DELETE CASCADE,
    audience          TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('view', 'conversation', 'message')),
    conversation_id   TEXT,
    user_agent_family TEXT NOT NULL DEFAULT '',
    client_hash       TEXT NOT NULL DEFAULT '',
    occurred_at       TIMESTAMP NOT NULL
);
--bun:split
-- twinAccessLog(first, after, shareLink): newest first, keyset paged.
CREATE INDEX twin_access_log_owner_idx ON twin_access_log (owner_user_id, occurred_at DESC, id DESC);
--bun:split
CREATE INDEX twin_access_log_link_idx ON twin_access_log (share_link_id, occurred_at DESC, id DESC);
--bun:split
CREATE INDEX twin_access_log_occurred_idx ON twin_access_log (occurred_at);
--bun:split
-- How long raw items are kept, per user and source (a platform, or
-- 'observer' for browser events). No row: the service default.
CREATE TABLE data_retention (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    source     TEXT NOT NULL,
    days       INTEGER NOT NULL CHECK (days BETWEEN 1 AND 36500),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, source)
);
--bun:split
-- The retention sweep deletes one user's old items of one platform.
CREATE INDEX user_platform_data_retention_idx ON user_platform_data (user_id, platform, occurred_at);
--bun:split
-- The window of data a signature was computed from.
ALTER TABLE soul_signatures ADD COLUMN data_from TIMESTAMP;
--bun:split
ALTER TABLE soul_signatures ADD COLUMN data_to TIMESTAMP;
