DROP TABLE api_tokens;
--bun:split
DROP TABLE sessions;
--bun:split
DROP TABLE users;
