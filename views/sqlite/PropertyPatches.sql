-- name: PropertyPatches
-- doc: One row per property (entity set PropertyPatches) with its patch, area, lead
-- doc: officer and area manager, read from the Patches view.
DROP VIEW IF EXISTS PropertyPatches;
CREATE VIEW PropertyPatches AS
SELECT
    pp.property_ref AS propertyRef,
    pp.patch_id AS patchId,
    v.patchName AS propertyPatchName,
    v.areaName AS propertyAreaName,
    v.leadOfficerName AS propertyOfficerName,
    v.leadOfficerEmail AS propertyOfficerEmail,
    v.areaManagerName AS propertyAreaManagerName,
    v.areaManagerEmail AS propertyAreaManagerEmail,
    strftime('%Y-%m-%dT%H:%M:%SZ', pp.assigned_at) AS propertyAssignedAt
FROM property_patch AS pp
JOIN Patches AS v ON v.patchId = pp.patch_id;
