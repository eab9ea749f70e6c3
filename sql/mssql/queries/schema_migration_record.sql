-- name: schema_migration_record
-- doc: Records that a migration has been applied (in the migration's own transaction).
-- params: @name nvarchar(200), @applied_at datetime2(3)
INSERT INTO dbo.schema_migration (name, applied_at) VALUES (@name, @applied_at);
