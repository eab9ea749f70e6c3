-- name: patch_change_list
-- doc: One page of a patch's change history, newest first (GET /patch/{id}/history).
-- doc: Keyset paging: @before_change_id is the last change id of the previous page
-- doc: (NULL for the first page), so deep pages cost the same as the first.
-- params: @patch_id uniqueidentifier, @before_change_id bigint, @take int
SELECT change_id, patch_id, version_number, change_type, changed_by, changed_at,
       before_json, after_json
FROM patch_change
WHERE patch_id = @patch_id
  AND (@before_change_id IS NULL OR change_id < @before_change_id)
ORDER BY change_id DESC
LIMIT @take
