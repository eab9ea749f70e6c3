-- name: patch_delete
-- doc: Deletes a patch that has no children and no properties (DELETE /patch/{id}),
-- doc: after its responsible entities have been removed. History rows are kept.
-- params: @id uniqueidentifier
DELETE FROM patch WHERE id = @id
