-- name: patch_get_by_id
-- doc: One patch or area with its responsible entities, by id (GET /patch/{id}, and
-- doc: the state every write returns). One row per responsible entity, or one row
-- doc: with NULL entity columns when it has none.
-- params: @id uniqueidentifier
SELECT p.id, p.parent_id, p.name, p.patch_type, p.domain, p.version_number,
       p.created_at, p.updated_at,
       re.entity_id, re.name AS entity_name, re.responsible_type, re.email_address
FROM patch AS p
LEFT JOIN responsible_entity AS re ON re.patch_id = p.id
WHERE p.id = @id
ORDER BY re.position
