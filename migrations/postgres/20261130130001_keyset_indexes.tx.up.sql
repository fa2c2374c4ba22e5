-- Issue 13: every keyset query walks an index in the order of its ORDER BY,
-- with the id tie-breaker in the index so a row-value bound is an index bound.
-- users(first, after): (created_at, id) ascending.
CREATE INDEX users_created_idx ON users (created_at, id);
--bun:split
-- The token sweep pages (token_expires_at, id) > (?, ?): already indexed so.
-- The polling claim: due connected rows in (next_sync_at, id) order. A
-- connection is due from its creation (next_sync_at is set then), so the
-- claim needs no IS NULL branch; the rows written before that get theirs now.
UPDATE platform_connections SET next_sync_at = connected_at WHERE next_sync_at IS NULL AND status <> 'disconnected';
--bun:split
DROP INDEX platform_connections_next_sync_idx;
--bun:split
CREATE INDEX platform_connections_next_sync_idx ON platform_connections (next_sync_at, id)
    WHERE status = 'connected';
--bun:split
-- cronExecutions(job, status, first, after) and the failure streaks: newest
-- first by (executed_at, id), with and without a job.
DROP INDEX cron_executions_job_executed_idx;
--bun:split
CREATE INDEX cron_executions_job_executed_idx ON cron_executions (job_name, executed_at DESC, id DESC);
--bun:split
CREATE INDEX cron_executions_executed_idx ON cron_executions (executed_at DESC, id DESC);
--bun:split
DROP INDEX cron_executions_failures_idx;
--bun:split
CREATE INDEX cron_executions_failures_idx ON cron_executions (job_name, executed_at DESC, id DESC)
    WHERE status IN ('error', 'timeout');
--bun:split
CREATE INDEX cron_executions_success_idx ON cron_executions (job_name, executed_at DESC, id DESC)
    WHERE status = 'success';
--bun:split
-- platformData(platform) without a dataType: newest first across types.
CREATE INDEX user_platform_data_platform_idx ON user_platform_data (user_id, platform, occurred_at DESC, id DESC);
--bun:split
-- insights(first, after) without a cluster.
CREATE INDEX insights_user_created_idx ON insights (user_id, created_at DESC, id DESC);
--bun:split
-- The owner's own conversations, most recently active first.
CREATE INDEX twin_conversations_own_idx ON twin_conversations (owner_user_id, updated_at DESC, id DESC)
    WHERE share_link_id IS NULL;
