-- name: responsible_entity_delete_all
-- doc: Removes every responsible entity of a patch, before the list is replaced
-- doc: (PUT /patch/{id}/responsible-entities) or the patch is deleted.
-- params: @patch_id uniqueidentifier
DELETE FROM responsible_entity WHERE patch_id = @patch_id
