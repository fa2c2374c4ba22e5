-- Insights: one row per (user, stable key); an analysis run rewrites a row
-- only when its content hash changed.
CREATE TABLE insights (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    cluster      TEXT NOT NULL,
    subcluster   TEXT NOT NULL DEFAULT '',
    title        TEXT NOT NULL,
    body         TEXT NOT NULL DEFAULT '',
    -- JSON array of ranked evidence, strongest first.
    evidence     TEXT NOT NULL DEFAULT '[]',
    confidence   DOUBLE PRECISION NOT NULL DEFAULT 0,
    sensitivity  INTEGER NOT NULL DEFAULT 0 CHECK (sensitivity BETWEEN 0 AND 100),
    source       TEXT NOT NULL CHECK (source IN ('pattern', 'llm')),
    content_hash TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE UNIQUE INDEX insights_user_key ON insights (user_id, key);
--bun:split
-- insights(cluster, first, after): newest first, keyset paged.
CREATE INDEX insights_list_idx ON insights (user_id, cluster, created_at DESC, id DESC);
--bun:split
-- The latest analysis of a user: features, Big Five traits, embedding,
-- completeness and cluster summaries as JSON. analyzed_at is compared with
-- the newest stored data to find users due for analysis.
CREATE TABLE soul_signatures (
    user_id        TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    analyzed_at    TIMESTAMPTZ NOT NULL,
    features       TEXT NOT NULL DEFAULT '{}',
    traits         TEXT NOT NULL DEFAULT '[]',
    embedding      TEXT NOT NULL DEFAULT '[]',
    completeness   TEXT NOT NULL DEFAULT '[]',
    summaries      TEXT NOT NULL DEFAULT '[]',
    -- Monthly embeddings of the user's own data, for similar periods.
    periods        TEXT NOT NULL DEFAULT '[]',
    content_hash   TEXT NOT NULL,
    -- Similar twins are computed only between users who opted in.
    opt_in_similar BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at     TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX soul_signatures_opt_in_idx ON soul_signatures (user_id) WHERE opt_in_similar;
--bun:split
-- Privacy sliders: audience '' is the cluster's own level, any other
-- audience an override of it for that audience. A missing row means the
-- default (50); an invalid one is refused by the CHECK.
CREATE TABLE privacy_settings (
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cluster    TEXT NOT NULL,
    audience   TEXT NOT NULL DEFAULT '',
    level      INTEGER NOT NULL CHECK (level BETWEEN 0 AND 100),
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, cluster, audience)
);
--bun:split
-- Share links: only the SHA-256 of the token is stored.
CREATE TABLE share_links (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL,
    audience     TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
--bun:split
CREATE UNIQUE INDEX share_links_token_hash_key ON share_links (token_hash);
--bun:split
CREATE INDEX share_links_user_idx ON share_links (user_id, created_at DESC);
--bun:split
-- The analysis job looks for users whose data changed since their last
-- analysis: per user, any row updated (or received) after analyzed_at.
CREATE INDEX user_platform_data_user_updated_idx ON user_platform_data (user_id, updated_at);
--bun:split
CREATE INDEX soul_observer_events_user_received_idx ON soul_observer_events (user_id, received_at);
