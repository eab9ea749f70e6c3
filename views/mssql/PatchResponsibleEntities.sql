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
    -- A correlated count rather than ROW_NUMBER(): the view stays flattenable, so a
    -- page ordered by the key reads only its own rows.
    (SELECT CAST(COUNT(*) AS int) FROM dbo.responsible_entity AS earlier
      WHERE earlier.patch_id = re.patch_id AND earlier.position <= re.position) AS responsibleEntityPosition
FROM dbo.responsible_entity AS re;
