-- name: Patches
-- doc: One row per patch or area (entity set Patches), with its parent and nearest area,
-- doc: its lead officer (first HousingOfficer) and its area manager (first
-- doc: HousingAreaManager on the patch, else on its parent) flattened in.
DROP VIEW IF EXISTS dbo.Patches;
GO
CREATE VIEW dbo.Patches AS
SELECT
    p.id AS patchId,
    p.name AS patchName,
    p.patch_type AS patchType,
    p.domain AS patchDomain,
    p.parent_id AS parentPatchId,
    parent.name AS parentPatchName,
    CASE WHEN parent.patch_type = N'area' THEN parent.id
         WHEN grand.patch_type = N'area' THEN grand.id END AS areaId,
    CASE WHEN parent.patch_type = N'area' THEN parent.name
         WHEN grand.patch_type = N'area' THEN grand.name END AS areaName,
    officer.entity_id AS leadOfficerId,
    officer.name AS leadOfficerName,
    officer.email_address AS leadOfficerEmail,
    COALESCE(own_manager.entity_id, parent_manager.entity_id) AS areaManagerId,
    CASE WHEN own_manager.entity_id IS NOT NULL THEN own_manager.name ELSE parent_manager.name END AS areaManagerName,
    CASE WHEN own_manager.entity_id IS NOT NULL THEN own_manager.email_address ELSE parent_manager.email_address END AS areaManagerEmail,
    (SELECT COUNT(*) FROM dbo.responsible_entity AS re WHERE re.patch_id = p.id) AS responsibleEntityCount,
    p.version_number AS patchVersionNumber,
    DATEADD(millisecond, -DATEPART(millisecond, p.created_at), p.created_at) AS patchCreatedAt,
    DATEADD(millisecond, -DATEPART(millisecond, p.updated_at), p.updated_at) AS patchUpdatedAt
FROM dbo.patch AS p
LEFT JOIN dbo.patch AS parent ON parent.id = p.parent_id
LEFT JOIN dbo.patch AS grand ON grand.id = parent.parent_id
LEFT JOIN dbo.responsible_entity AS officer
    ON officer.patch_id = p.id
   AND officer.responsible_type = N'HousingOfficer'
   AND officer.position = (SELECT MIN(x.position) FROM dbo.responsible_entity AS x
                       WHERE x.patch_id = p.id AND x.responsible_type = N'HousingOfficer')
LEFT JOIN dbo.responsible_entity AS own_manager
    ON own_manager.patch_id = p.id
   AND own_manager.responsible_type = N'HousingAreaManager'
   AND own_manager.position = (SELECT MIN(x.position) FROM dbo.responsible_entity AS x
                       WHERE x.patch_id = p.id AND x.responsible_type = N'HousingAreaManager')
LEFT JOIN dbo.responsible_entity AS parent_manager
    ON parent_manager.patch_id = parent.id
   AND parent_manager.responsible_type = N'HousingAreaManager'
   AND parent_manager.position = (SELECT MIN(x.position) FROM dbo.responsible_entity AS x
                       WHERE x.patch_id = parent.id AND x.responsible_type = N'HousingAreaManager');
