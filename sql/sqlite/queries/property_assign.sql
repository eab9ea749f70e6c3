-- name: property_assign
-- doc: Assigns a property to a patch, replacing any earlier assignment
-- doc: (PUT /properties/{propertyRef}/patch). One atomic upsert, so two first
-- doc: assignments of one property cannot race.
-- params: @property_ref nvarchar(50), @patch_id uniqueidentifier, @assigned_at datetime2(3), @assigned_by nvarchar(200)
INSERT INTO property_patch (property_ref, patch_id, assigned_at, assigned_by)
VALUES (@property_ref, @patch_id, @assigned_at, @assigned_by)
ON CONFLICT (property_ref) DO UPDATE
SET patch_id = excluded.patch_id, assigned_at = excluded.assigned_at, assigned_by = excluded.assigned_by
