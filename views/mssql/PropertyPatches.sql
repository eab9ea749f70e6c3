-- name: PropertyPatches
-- doc: One row per property (entity set PropertyPatches) with its patch, area, lead
-- doc: officer and area manager, read from the Patches view.
DROP VIEW IF EXISTS dbo.PropertyPatches;
GO
CREATE VIEW dbo.PropertyPatches AS
SELECT
    pp.property_ref AS propertyRef,
    pp.patch_id AS patchId,
    v.patchName AS propertyPatchName,
    v.areaName AS propertyAreaName,
    v.leadOfficerName AS propertyOfficerName,
    v.leadOfficerEmail AS propertyOfficerEmail,
    v.areaManagerName AS propertyAreaManagerName,
    v.areaManagerEmail AS propertyAreaManagerEmail,
    DATEADD(millisecond, -DATEPART(millisecond, pp.assigned_at), pp.assigned_at) AS propertyAssignedAt
FROM dbo.property_patch AS pp
JOIN dbo.Patches AS v ON v.patchId = pp.patch_id;
