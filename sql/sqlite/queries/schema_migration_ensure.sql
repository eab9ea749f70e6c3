-- name: schema_migration_ensure
-- doc: Creates the table that records applied migrations, if it does not exist yet.
-- params: (none)
CREATE TABLE IF NOT EXISTS schema_migration (
    name       TEXT NOT NULL PRIMARY KEY,
    applied_at TEXT NOT NULL
)
