ALTER TABLE insights DROP COLUMN also_clusters;
