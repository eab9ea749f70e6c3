-- name: patch_list_all
-- doc: Every patch and area with its responsible entities (GET /patch/all), ordered
-- doc: by name.
-- params: (none)
SELECT p.id, p.parent_id, p.name, p.patch_type, p.domain, p.version_number,
       p.created_at, p.updated_at,
       re.entity_id, re.name AS entity_name, re.responsible_type, re.email_address
FROM dbo.patch AS p
LEFT JOIN dbo.responsible_entity AS re ON re.patch_id = p.id
ORDER BY p.name, p.id, re.position;
