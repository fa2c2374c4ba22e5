-- One row per run of a scheduled job, whatever started it.
CREATE TABLE cron_executions (
    id                TEXT PRIMARY KEY,
    job_name          TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('success', 'error', 'timeout', 'skipped')),
    execution_time_ms BIGINT NOT NULL DEFAULT 0,
    tokens_checked    INTEGER NOT NULL DEFAULT 0,
    tokens_refreshed  INTEGER NOT NULL DEFAULT 0,
    platforms_polled  INTEGER NOT NULL DEFAULT 0,
    error_message     TEXT NOT NULL DEFAULT '',
    -- JSON: per-connection outcomes and counts; never a token.
    result_data       TEXT NOT NULL DEFAULT '{}',
    executed_at       TIMESTAMPTZ NOT NULL,
    instance          TEXT NOT NULL DEFAULT '',
    "trigger"         TEXT NOT NULL CHECK ("trigger" IN ('schedule', 'http', 'admin', 'cli'))
);
--bun:split
CREATE INDEX cron_executions_job_executed_idx ON cron_executions (job_name, executed_at DESC);
--bun:split
-- Failures are what admins and alerts look for.
CREATE INDEX cron_executions_failures_idx ON cron_executions (job_name, executed_at DESC)
    WHERE status IN ('error', 'timeout');
--bun:split
-- Cross-instance locker: an instance runs a scheduled tick of a job only if
-- its insert of (job, tick) wins. The tick is the scheduled time, not the
-- time the instance woke up, so clock skew between instances cannot make
-- two of them claim different keys for one tick.
CREATE TABLE cron_claims (
    job_name   TEXT NOT NULL,
    tick       TIMESTAMPTZ NOT NULL,
    instance   TEXT NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (job_name, tick)
);
--bun:split
CREATE INDEX cron_claims_tick_idx ON cron_claims (tick);
