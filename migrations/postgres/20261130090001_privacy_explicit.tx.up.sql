-- Privacy settings are stored explicitly (issue 9): every user has a row per
-- cluster (audience '', its level) and a row per (cluster, audience) that
-- either sets the audience's level or follows (follows = TRUE: the
-- cluster's level; for 'assistant', the 'everyone' audience's level). A
-- missing row can then only mean damage, and the reveal filter shows
-- nothing of that cluster.
ALTER TABLE privacy_settings ADD COLUMN follows BOOLEAN NOT NULL DEFAULT FALSE;
--bun:split
-- Fill the rows of existing users with what a missing row meant until now:
-- the default level 50, and audiences following the cluster slider. Rows
-- already stored are kept.
INSERT INTO privacy_settings (user_id, cluster, audience, level, follows, updated_at)
SELECT u.id, c.cluster, '', 50, FALSE, now()
  FROM users u
 CROSS JOIN (SELECT 'personal' AS cluster UNION ALL SELECT 'professional' UNION ALL SELECT 'creative') c
 WHERE TRUE
ON CONFLICT (user_id, cluster, audience) DO NOTHING;
--bun:split
INSERT INTO privacy_settings (user_id, cluster, audience, level, follows, updated_at)
SELECT u.id, c.cluster, a.audience, 0, TRUE, now()
  FROM users u
 CROSS JOIN (SELECT 'personal' AS cluster UNION ALL SELECT 'professional' UNION ALL SELECT 'creative') c
 CROSS JOIN (SELECT 'everyone' AS audience UNION ALL SELECT 'professional' UNION ALL SELECT 'friends'
             UNION ALL SELECT 'intimate' UNION ALL SELECT 'dating' UNION ALL SELECT 'assistant') a
 WHERE TRUE
ON CONFLICT (user_id, cluster, audience) DO NOTHING;
--bun:split
-- Similar twins compare the embedding of the view this audience may see.
ALTER TABLE soul_signatures ADD COLUMN match_audience TEXT NOT NULL DEFAULT 'everyone';
--bun:split
-- Per cluster, the hash of the revealed input the stored narrative was
-- written from: the LLM is called only when it changed.
ALTER TABLE soul_signatures ADD COLUMN narrated TEXT NOT NULL DEFAULT '{}';
