-- name: responsible_entity_update
-- doc: Changes the name, type and contact details of one responsible entity already
-- doc: on a patch (PATCH /patch/{id}/responsible-entity/{reId}); keeps its position.
-- params: @patch_id uniqueidentifier, @entity_id uniqueidentifier, @name nvarchar(200), @responsible_type nvarchar(30), @email_address nvarchar(254)
UPDATE responsible_entity
SET name = @name, responsible_type = @responsible_type, email_address = @email_address
WHERE patch_id = @patch_id AND entity_id = @entity_id
