-- name: property_responsibility
-- doc: Who is responsible for a property (GET /properties/{propertyRef}/responsibility):
-- doc: the property's patch (depth 0), every area above it up to the root, and every
-- doc: responsible entity on the way, nearest first. No row when the property is not
-- doc: assigned. Stops after 50 levels so damaged data cannot loop.
-- params: @property_ref nvarchar(50)
WITH chain (patch_id, depth) AS (
    SELECT pp.patch_id, 0 FROM dbo.property_patch AS pp WHERE pp.property_ref = @property_ref
    UNION ALL
    SELECT up.parent_id, c.depth + 1
    FROM chain AS c
    JOIN dbo.patch AS up ON up.id = c.patch_id
    WHERE up.parent_id IS NOT NULL AND c.depth < 50
)
SELECT c.depth, p.id, p.parent_id, p.name, p.patch_type, p.domain, p.version_number,
       p.created_at, p.updated_at,
       re.entity_id, re.name AS entity_name, re.responsible_type, re.email_address
FROM chain AS c
JOIN dbo.patch AS p ON p.id = c.patch_id
LEFT JOIN dbo.responsible_entity AS re ON re.patch_id = p.id
ORDER BY c.depth, re.position;
