-- name: property_get
-- doc: The patch a property is assigned to; no row when it is not assigned.
-- params: @property_ref nvarchar(50)
SELECT property_ref, patch_id, assigned_at, assigned_by
FROM dbo.property_patch
WHERE property_ref = @property_ref;
