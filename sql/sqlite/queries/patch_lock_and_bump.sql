-- name: patch_lock_and_bump
-- doc: The first statement of every change to a patch: takes the row's write lock,
-- doc: checks the expected version (NULL = any) and raises the version by one,
-- doc: returning the new version. No row back means "not found" or "stale version";
-- doc: concurrent writers to one patch queue here, so none is lost.
-- params: @id uniqueidentifier, @expected_version int, @updated_at datetime2(3), @updated_by nvarchar(200)
UPDATE patch
SET version_number = version_number + 1,
    updated_at = @updated_at,
    updated_by = @updated_by
WHERE id = @id
  AND (@expected_version IS NULL OR version_number = @expected_version)
RETURNING version_number
