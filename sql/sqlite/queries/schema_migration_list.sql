-- name: schema_migration_list
-- doc: The names of the migrations already applied.
-- params: (none)
SELECT name, applied_at FROM schema_migration ORDER BY name
