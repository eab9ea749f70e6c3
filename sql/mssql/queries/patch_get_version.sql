-- name: patch_get_version
-- doc: The current version of a patch; no row when it does not exist. Used to tell
-- doc: "not found" from "version mismatch" and to check that a parent exists.
-- params: @id uniqueidentifier
SELECT version_number FROM dbo.patch WHERE id = @id;
