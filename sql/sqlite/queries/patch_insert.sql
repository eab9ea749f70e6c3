-- name: patch_insert
-- doc: Creates a patch or area at version 1 (POST /patch).
-- params: @id uniqueidentifier, @parent_id uniqueidentifier, @name nvarchar(100), @patch_type nvarchar(10), @domain nvarchar(20), @created_at datetime2(3), @created_by nvarchar(200)
INSERT INTO patch (id, parent_id, name, patch_type, domain, version_number,
                   created_at, created_by, updated_at, updated_by)
VALUES (@id, @parent_id, @name, @patch_type, @domain, 1,
        @created_at, @created_by, @created_at, @created_by)
