-- name: responsible_entity_insert
-- doc: Adds one responsible entity at the end of a patch's list (its position is one
-- doc: more than the largest so far; the patch row is locked, so no two writers race).
-- params: @patch_id uniqueidentifier, @entity_id uniqueidentifier, @name nvarchar(200), @responsible_type nvarchar(30), @email_address nvarchar(254)
INSERT INTO responsible_entity (patch_id, entity_id, position, name, responsible_type, email_address)
SELECT @patch_id, @entity_id, COALESCE(MAX(existing.position) + 1, 0), @name, @responsible_type, @email_address
FROM responsible_entity AS existing
WHERE existing.patch_id = @patch_id
