-- Conversations with a digital twin. owner_user_id is whose twin it is;
-- viewer_user_id is who chats (the owner with their own twin, or a signed-in
-- visitor through a share link; NULL for an anonymous share-link guest).
-- share_link_id is set for every conversation started through a share link;
-- it is not a foreign key because share links live in another migration and
-- are revoked, not deleted: the service refuses a revoked link before it
-- reaches a conversation. audience is the audience the twin answers as
-- ('' for the owner talking to their unfiltered twin).
CREATE TABLE twin_conversations (
    id             TEXT PRIMARY KEY,
    owner_user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    viewer_user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    share_link_id  TEXT,
    audience       TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    -- Somebody must be able to come back to a conversation.
    CHECK (viewer_user_id IS NOT NULL OR share_link_id IS NOT NULL),
    -- A share-link conversation always answers as the link's audience.
    CHECK (share_link_id IS NULL OR audience <> '')
);
--bun:split
-- A person's conversations with their own twin, most recent first.
CREATE INDEX twin_conversations_owner_updated_idx ON twin_conversations (owner_user_id, updated_at DESC);
--bun:split
CREATE INDEX twin_conversations_share_link_idx ON twin_conversations (share_link_id) WHERE share_link_id IS NOT NULL;
--bun:split
-- One turn. A twin message is stored pending (completed false, empty text)
-- when the reply starts and finished once the stream ends; error_message is
-- the client-safe reason a reply stopped early, '' when it did not.
CREATE TABLE twin_messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES twin_conversations (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('user', 'twin')),
    text            TEXT NOT NULL DEFAULT '',
    -- Who wrote a twin message: a language model or the local responder;
    -- '' for the visitor's own messages.
    source          TEXT NOT NULL DEFAULT '' CHECK (source IN ('', 'llm', 'local')),
    completed       BOOLEAN NOT NULL DEFAULT FALSE,
    error_message   TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL
);
--bun:split
CREATE INDEX twin_messages_conversation_created_idx ON twin_messages (conversation_id, created_at, id);
