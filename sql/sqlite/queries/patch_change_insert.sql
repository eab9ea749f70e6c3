-- name: patch_change_insert
-- doc: Appends one change-history row: who changed which patch, when, to which
-- doc: version, and its content before and after as JSON. Every write does this in
-- doc: its own transaction.
-- params: @patch_id uniqueidentifier, @version_number int, @change_type nvarchar(40), @changed_by nvarchar(200), @changed_at datetime2(3), @before_json nvarchar(max), @after_json nvarchar(max)
INSERT INTO patch_change (patch_id, version_number, change_type, changed_by, changed_at, before_json, after_json)
VALUES (@patch_id, @version_number, @change_type, @changed_by, @changed_at, @before_json, @after_json)
