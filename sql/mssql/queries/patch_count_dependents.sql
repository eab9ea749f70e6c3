-- name: patch_count_dependents
-- doc: How many child patches and assigned properties a patch has; a patch with
-- doc: either cannot be deleted (DELETE /patch/{id} answers 409).
-- params: @id uniqueidentifier
SELECT
    (SELECT COUNT_BIG(*) FROM dbo.patch WHERE parent_id = @id) AS children,
    (SELECT COUNT_BIG(*) FROM dbo.property_patch WHERE patch_id = @id) AS properties;
