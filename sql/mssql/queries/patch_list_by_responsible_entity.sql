-- name: patch_list_by_responsible_entity
-- doc: The patches and areas a person or group is responsible for, each with all of
-- doc: its responsible entities (GET /patch?responsibleEntityId=), ordered by name.
-- params: @entity_id uniqueidentifier
SELECT p.id, p.parent_id, p.name, p.patch_type, p.domain, p.version_number,
       p.created_at, p.updated_at,
       re.entity_id, re.name AS entity_name, re.responsible_type, re.email_address
FROM dbo.patch AS p
LEFT JOIN dbo.responsible_entity AS re ON re.patch_id = p.id
WHERE p.id IN (SELECT mine.patch_id FROM dbo.responsible_entity AS mine WHERE mine.entity_id = @entity_id)
ORDER BY p.name, p.id, re.position;
