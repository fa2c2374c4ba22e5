DROP TABLE cron_claims;
--bun:split
DROP TABLE cron_executions;
