DROP INDEX twin_conversations_own_idx;
--bun:split
DROP INDEX insights_user_created_idx;
--bun:split
DROP INDEX user_platform_data_platform_idx;
--bun:split
DROP INDEX cron_executions_success_idx;
--bun:split
DROP INDEX cron_executions_failures_idx;
--bun:split
CREATE INDEX cron_executions_failures_idx ON cron_executions (job_name, executed_at DESC)
    WHERE status IN ('error', 'timeout');
--bun:split
DROP INDEX cron_executions_executed_idx;
--bun:split
DROP INDEX cron_executions_job_executed_idx;
--bun:split
CREATE INDEX cron_executions_job_executed_idx ON cron_executions (job_name, executed_at DESC);
--bun:split
DROP INDEX platform_connections_next_sync_idx;
--bun:split
CREATE INDEX platform_connections_next_sync_idx ON platform_connections (next_sync_at)
    WHERE status = 'connected';
--bun:split
DROP INDEX users_created_idx;
