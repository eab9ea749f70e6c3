-- name: PatchHierarchy
-- doc: One row per patch or area (entity set PatchHierarchy) with every level above it
-- doc: as columns, root first, so a report can group by area without recursion.
-- doc: Trees up to six levels deep (root plus five).
DROP VIEW IF EXISTS PatchHierarchy;
CREATE VIEW PatchHierarchy AS
SELECT
    p.id AS patchId,
    CASE WHEN a5.id IS NOT NULL THEN 5 WHEN a4.id IS NOT NULL THEN 4 WHEN a3.id IS NOT NULL THEN 3 WHEN a2.id IS NOT NULL THEN 2 WHEN a1.id IS NOT NULL THEN 1 ELSE 0 END AS hierarchyDepth,
    CASE WHEN a5.id IS NOT NULL THEN a5.id WHEN a4.id IS NOT NULL THEN a4.id WHEN a3.id IS NOT NULL THEN a3.id WHEN a2.id IS NOT NULL THEN a2.id WHEN a1.id IS NOT NULL THEN a1.id ELSE p.id END AS hierarchyLevel0Id,
    CASE WHEN a5.id IS NOT NULL THEN a5.name WHEN a4.id IS NOT NULL THEN a4.name WHEN a3.id IS NOT NULL THEN a3.name WHEN a2.id IS NOT NULL THEN a2.name WHEN a1.id IS NOT NULL THEN a1.name ELSE p.name END AS hierarchyLevel0Name,
    CASE WHEN a5.id IS NOT NULL THEN a4.id WHEN a4.id IS NOT NULL THEN a3.id WHEN a3.id IS NOT NULL THEN a2.id WHEN a2.id IS NOT NULL THEN a1.id WHEN a1.id IS NOT NULL THEN p.id END AS hierarchyLevel1Id,
    CASE WHEN a5.id IS NOT NULL THEN a4.name WHEN a4.id IS NOT NULL THEN a3.name WHEN a3.id IS NOT NULL THEN a2.name WHEN a2.id IS NOT NULL THEN a1.name WHEN a1.id IS NOT NULL THEN p.name END AS hierarchyLevel1Name,
    CASE WHEN a5.id IS NOT NULL THEN a3.id WHEN a4.id IS NOT NULL THEN a2.id WHEN a3.id IS NOT NULL THEN a1.id WHEN a2.id IS NOT NULL THEN p.id END AS hierarchyLevel2Id,
    CASE WHEN a5.id IS NOT NULL THEN a3.name WHEN a4.id IS NOT NULL THEN a2.name WHEN a3.id IS NOT NULL THEN a1.name WHEN a2.id IS NOT NULL THEN p.name END AS hierarchyLevel2Name,
    CASE WHEN a5.id IS NOT NULL THEN a2.id WHEN a4.id IS NOT NULL THEN a1.id WHEN a3.id IS NOT NULL THEN p.id END AS hierarchyLevel3Id,
    CASE WHEN a5.id IS NOT NULL THEN a2.name WHEN a4.id IS NOT NULL THEN a1.name WHEN a3.id IS NOT NULL THEN p.name END AS hierarchyLevel3Name,
    CASE WHEN a5.id IS NOT NULL THEN a1.id WHEN a4.id IS NOT NULL THEN p.id END AS hierarchyLevel4Id,
    CASE WHEN a5.id IS NOT NULL THEN a1.name WHEN a4.id IS NOT NULL THEN p.name END AS hierarchyLevel4Name,
    CASE WHEN a5.id IS NOT NULL THEN p.id END AS hierarchyLevel5Id,
    CASE WHEN a5.id IS NOT NULL THEN p.name END AS hierarchyLevel5Name
FROM patch AS p
LEFT JOIN patch AS a1 ON a1.id = p.parent_id
LEFT JOIN patch AS a2 ON a2.id = a1.parent_id
LEFT JOIN patch AS a3 ON a3.id = a2.parent_id
LEFT JOIN patch AS a4 ON a4.id = a3.parent_id
LEFT JOIN patch AS a5 ON a5.id = a4.parent_id;
