-- name: schema_migration_ensure
-- doc: Creates the table that records applied migrations, if it does not exist yet.
-- params: (none)
IF NOT EXISTS (SELECT 1 FROM sys.tables WHERE name = N'schema_migration' AND schema_id = SCHEMA_ID(N'dbo'))
    CREATE TABLE dbo.schema_migration (
        name       nvarchar(200) NOT NULL CONSTRAINT pk_schema_migration PRIMARY KEY,
        applied_at datetime2(3)  NOT NULL
    );
