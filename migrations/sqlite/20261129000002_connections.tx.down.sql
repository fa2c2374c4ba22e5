DROP TABLE oauth_states;
--bun:split
DROP TABLE platform_connections;
