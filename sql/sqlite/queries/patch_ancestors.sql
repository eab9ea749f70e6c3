-- name: patch_ancestors
-- doc: A patch and every area above it up to the root, nearest first (depth 0 is the
-- doc: patch itself). Used to refuse a parent that would make a cycle. Stops after 50
-- doc: levels so damaged data cannot loop.
-- params: @id uniqueidentifier
WITH RECURSIVE chain (id, parent_id, depth) AS (
    SELECT p.id, p.parent_id, 0 FROM patch AS p WHERE p.id = @id
    UNION ALL
    SELECT p.id, p.parent_id, c.depth + 1
    FROM chain AS c
    JOIN patch AS p ON p.id = c.parent_id
    WHERE c.depth < 50
)
SELECT id, parent_id, depth FROM chain ORDER BY depth
