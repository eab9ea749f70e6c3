-- name: patch_list_by_parent
-- doc: The children of a patch or area with their responsible entities
-- doc: (GET /patch?parentId=), ordered by name.
-- params: @parent_id uniqueidentifier
SELECT p.id, p.parent_id, p.name, p.patch_type, p.domain, p.version_number,
       p.created_at, p.updated_at,
       re.entity_id, re.name AS entity_name, re.responsible_type, re.email_address
FROM dbo.patch AS p
LEFT JOIN dbo.responsible_entity AS re ON re.patch_id = p.id
WHERE p.parent_id = @parent_id
ORDER BY p.name, p.id, re.position;
