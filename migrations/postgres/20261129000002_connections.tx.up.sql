CREATE TABLE platform_connections (
    id                       TEXT PRIMARY KEY,
    user_id                  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform                 TEXT NOT NULL,
    status                   TEXT NOT NULL
        CHECK (status IN ('connected', 'token_expired', 'needs_reauth', 'error', 'disconnected')),
    account_id               TEXT NOT NULL DEFAULT '',
    account_name             TEXT NOT NULL DEFAULT '',
    scopes                   TEXT NOT NULL DEFAULT '',
    -- Tokens are AES-256-GCM ciphertexts bound to (id, column); empty or
    -- NULL once disconnected.
    access_token_enc         TEXT NOT NULL DEFAULT '',
    refresh_token_enc        TEXT,
    -- NULL: the access token does not expire (GitHub OAuth apps, Slack
    -- without rotation).
    token_expires_at         TIMESTAMPTZ,
    connected_at             TIMESTAMPTZ NOT NULL,
    last_sync                TIMESTAMPTZ,
    next_sync_at             TIMESTAMPTZ,
    sync_cursor              TEXT NOT NULL DEFAULT '{}',
    last_error               TEXT NOT NULL DEFAULT '',
    last_error_at            TIMESTAMPTZ,
    -- Start of the current run of transient refresh failures; NULL after a
    -- success. Four days of them turn the connection to 'error'.
    transient_failures_since TIMESTAMPTZ,
    consecutive_failures     INTEGER NOT NULL DEFAULT 0,
    -- Cross-instance refresh lease: one refresh per connection at a time.
    refresh_lease_until      TIMESTAMPTZ,
    refresh_lease_owner      TEXT NOT NULL DEFAULT '',
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE UNIQUE INDEX platform_connections_user_platform_key ON platform_connections (user_id, platform);
--bun:split
-- The refresh sweep: connections with a refresh token, in expiry order (id
-- breaks ties for keyset paging).
CREATE INDEX platform_connections_token_expires_idx ON platform_connections (token_expires_at, id)
    WHERE status IN ('connected', 'token_expired') AND refresh_token_enc IS NOT NULL;
--bun:split
CREATE INDEX platform_connections_platform_status_idx ON platform_connections (platform, status);
--bun:split
CREATE INDEX platform_connections_last_sync_idx ON platform_connections (last_sync DESC)
    WHERE status = 'connected';
--bun:split
CREATE TABLE oauth_states (
    -- SHA-256 of the state sent to the provider, hex; the state itself is
    -- never stored.
    state             TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform          TEXT NOT NULL,
    pkce_verifier_enc TEXT NOT NULL DEFAULT '',
    redirect_uri      TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    expires_at        TIMESTAMPTZ NOT NULL,
    used_at           TIMESTAMPTZ
);
--bun:split
CREATE INDEX oauth_states_expires_at_idx ON oauth_states (expires_at);
