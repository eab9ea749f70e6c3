-- name: responsible_entity_insert
-- doc: Adds one responsible entity to a patch at the given list position.
-- params: @patch_id uniqueidentifier, @entity_id uniqueidentifier, @position int, @name nvarchar(200), @responsible_type nvarchar(30), @email_address nvarchar(254)
INSERT INTO responsible_entity (patch_id, entity_id, position, name, responsible_type, email_address)
VALUES (@patch_id, @entity_id, @position, @name, @responsible_type, @email_address)
