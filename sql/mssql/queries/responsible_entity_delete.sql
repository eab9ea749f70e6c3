-- name: responsible_entity_delete
-- doc: Removes one responsible entity from a patch
-- doc: (DELETE /patch/{id}/responsible-entity/{reId}).
-- params: @patch_id uniqueidentifier, @entity_id uniqueidentifier
DELETE FROM dbo.responsible_entity WHERE patch_id = @patch_id AND entity_id = @entity_id;
