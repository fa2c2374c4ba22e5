DROP TABLE twin_messages;
--bun:split
DROP TABLE twin_conversations;
