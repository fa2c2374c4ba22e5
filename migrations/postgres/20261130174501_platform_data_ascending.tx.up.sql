-- Imports and polls write platform data oldest first (exports are in
-- time order, each poll brings the newest items). Into an index sorted
-- newest first every such row lands at the left edge of the user's range,
-- and left-edge page splits leave pages half empty: the two paging
-- indexes were twice their size, and every import wrote and checkpointed
-- the empty half. Ascending, the same rows append at the right edge and
-- pages fill. Both databases walk an index backwards for the newest-first
-- pages (ORDER BY occurred_at DESC, id DESC with a (occurred_at, id) < (?, ?)
-- bound), so the keyset queries keep their plans.
DROP INDEX user_platform_data_list_idx;
--bun:split
CREATE INDEX user_platform_data_list_idx ON user_platform_data (user_id, platform, data_type, occurred_at, id);
--bun:split
DROP INDEX user_platform_data_platform_idx;
--bun:split
CREATE INDEX user_platform_data_platform_idx ON user_platform_data (user_id, platform, occurred_at, id);
--bun:split
-- (user_id, platform, occurred_at) is a prefix of the index above: the
-- retention sweep's range is served by it, and a copy cost every insert a
-- sixth B-tree.
DROP INDEX user_platform_data_retention_idx;
