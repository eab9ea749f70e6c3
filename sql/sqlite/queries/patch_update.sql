-- name: patch_update
-- doc: Replaces the name, type, domain and parent of a patch (PUT /patch/{id}); runs
-- doc: after patch_lock_and_bump in the same transaction.
-- params: @id uniqueidentifier, @parent_id uniqueidentifier, @name nvarchar(100), @patch_type nvarchar(10), @domain nvarchar(20)
UPDATE patch
SET parent_id = @parent_id, name = @name, patch_type = @patch_type, domain = @domain
WHERE id = @id
