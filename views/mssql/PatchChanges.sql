-- name: PatchChanges
-- doc: One row per change-history entry (entity set PatchChanges). Timestamps are
-- doc: cut to whole seconds, as the API shows them.
DROP VIEW IF EXISTS dbo.PatchChanges;
GO
CREATE VIEW dbo.PatchChanges AS
SELECT
    c.change_id AS changeId,
    c.patch_id AS patchId,
    c.version_number AS changeVersionNumber,
    c.change_type AS changeType,
    c.changed_by AS changedBy,
    DATEADD(millisecond, -DATEPART(millisecond, c.changed_at), c.changed_at) AS changedAt,
    c.before_json AS changeBefore,
    c.after_json AS changeAfter
FROM dbo.patch_change AS c;
