-- name: property_assign
-- doc: Assigns a property to a patch, replacing any earlier assignment
-- doc: (PUT /properties/{propertyRef}/patch). Update-then-insert under a key-range
-- doc: lock instead of MERGE, so two first assignments of one property cannot race.
-- params: @property_ref nvarchar(50), @patch_id uniqueidentifier, @assigned_at datetime2(3), @assigned_by nvarchar(200)
UPDATE dbo.property_patch WITH (UPDLOCK, SERIALIZABLE)
SET patch_id = @patch_id, assigned_at = @assigned_at, assigned_by = @assigned_by
WHERE property_ref = @property_ref;
IF @@ROWCOUNT = 0
    INSERT INTO dbo.property_patch (property_ref, patch_id, assigned_at, assigned_by)
    VALUES (@property_ref, @patch_id, @assigned_at, @assigned_by);
