-- name: PatchResponsibleEntities
-- doc: One row per patch and responsible entity (entity set PatchResponsibleEntities),
-- doc: numbered in the order the patch lists them.
DROP VIEW IF EXISTS dbo.PatchResponsibleEntities;
GO
CREATE VIEW dbo.PatchResponsibleEntities AS
SELECT
    re.patch_id AS patchId,
    re.entity_id AS responsibleEntityId,
    re.name AS responsibleEntityName,
    re.responsible_type AS responsibleEntityType,
    re.email_address AS responsibleEntityEmail,
    CAST(ROW_NUMBER() OVER (PARTITION BY re.patch_id ORDER BY re.position) AS int) AS responsibleEntityPosition
FROM dbo.responsible_entity AS re;
