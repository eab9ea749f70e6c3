-- name: patch_any
-- doc: One patch id if any patch exists; at start-up, demo data is loaded only into an
-- doc: empty database.
-- params: (none)
SELECT TOP (1) id FROM dbo.patch;
