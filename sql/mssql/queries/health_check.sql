-- name: health_check
-- doc: Readiness probe (GET /health/ready): proves a pooled connection can run a query
-- doc: against the migrated schema.
-- params: (none)
SELECT COUNT_BIG(*) AS migrations FROM dbo.schema_migration;
