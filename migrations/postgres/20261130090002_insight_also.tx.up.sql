-- Insights drawing on clusters besides their own (a correlation of two
-- sources), comma-separated: the reveal filter shows such an insight only to
-- an audience that sees every one of them (issue 9).
ALTER TABLE insights ADD COLUMN also_clusters TEXT NOT NULL DEFAULT '';
