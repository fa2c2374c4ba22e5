-- Everything twinme holds of a person's platforms: API items and imported
-- exports meet here, one row per (user, platform, data type, external id).
-- On SQLite id (a UUIDv7, unique by construction) has no index of its own:
-- nothing looks rows up by id, the natural key below is unique, and the
-- extra B-tree cost a sixth of import speed. PostgreSQL keeps it as the
-- primary key.
CREATE TABLE user_platform_data (
    id            TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform      TEXT NOT NULL,
    data_type     TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    -- SHA-256 of the canonical payload: an upsert with the same hash
    -- rewrites nothing.
    content_hash  TEXT NOT NULL,
    occurred_at   TIMESTAMP NOT NULL,
    -- JSON object of normalised fields; never a token or a message body.
    payload       TEXT NOT NULL DEFAULT '{}',
    -- Where the row came from (extended_history, api, account_data,
    -- takeout …) and how rich that source is: a poorer source never
    -- overwrites a richer one.
    source        TEXT NOT NULL DEFAULT '',
    source_rank   INTEGER NOT NULL DEFAULT 0,
    first_seen_at TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL
);
--bun:split
CREATE UNIQUE INDEX user_platform_data_key ON user_platform_data (user_id, platform, data_type, external_id);
--bun:split
-- platformData(platform, dataType, first, after): newest first, keyset paged.
CREATE INDEX user_platform_data_list_idx ON user_platform_data (user_id, platform, data_type, occurred_at DESC, id DESC);
--bun:split
-- Behaviour events of the browser extension. url is set only when the user
-- opted in to full paths, and never holds a query string.
CREATE TABLE soul_observer_events (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_event_id TEXT NOT NULL,
    type            TEXT NOT NULL,
    occurred_at     TIMESTAMP NOT NULL,
    domain          TEXT NOT NULL DEFAULT '',
    url             TEXT,
    data            TEXT NOT NULL DEFAULT '{}',
    received_at     TIMESTAMP NOT NULL
);
--bun:split
-- A retried batch adds nothing.
CREATE UNIQUE INDEX soul_observer_events_client_key ON soul_observer_events (user_id, client_event_id);
--bun:split
CREATE INDEX soul_observer_events_user_occurred_idx ON soul_observer_events (user_id, occurred_at);
--bun:split
-- The retention sweep deletes across users by age.
CREATE INDEX soul_observer_events_occurred_idx ON soul_observer_events (occurred_at);
--bun:split
-- Observation is off until the person turns it on (no row: off).
CREATE TABLE observer_settings (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    enabled    BOOLEAN NOT NULL DEFAULT FALSE,
    full_paths BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL
);
--bun:split
-- Polling state beside the connection (stream cursors live in
-- platform_connections.sync_cursor, checkpointed with each page): failed
-- runs in a row for the backoff, the time a provider asked us to wait
-- until, and the counts of the last run.
CREATE TABLE platform_sync_state (
    connection_id   TEXT PRIMARY KEY REFERENCES platform_connections (id) ON DELETE CASCADE,
    failures        INTEGER NOT NULL DEFAULT 0,
    retry_at        TIMESTAMP,
    last_run_at     TIMESTAMP,
    last_fetched    INTEGER NOT NULL DEFAULT 0,
    last_inserted   INTEGER NOT NULL DEFAULT 0,
    last_updated    INTEGER NOT NULL DEFAULT 0,
    updated_at      TIMESTAMP NOT NULL
);
--bun:split
-- The polling job: connected connections in next_sync_at order.
CREATE INDEX platform_connections_next_sync_idx ON platform_connections (next_sync_at)
    WHERE status = 'connected';
