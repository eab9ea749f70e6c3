-- name: 0001_create_tables
-- doc: Creates the tables of patches and areas (one self-referencing table), their
-- doc: responsible entities, property-to-patch assignments and the change history,
-- doc: with an index for every lookup the API makes (by parent, by responsible
-- doc: entity, by property, by patch for history).
CREATE TABLE dbo.patch (
    id             uniqueidentifier NOT NULL,
    parent_id      uniqueidentifier NULL,
    name           nvarchar(100)    NOT NULL,
    patch_type     nvarchar(10)     NOT NULL,
    domain         nvarchar(20)     NOT NULL,
    version_number int              NOT NULL,
    created_at     datetime2(3)     NOT NULL,
    created_by     nvarchar(200)    NOT NULL,
    updated_at     datetime2(3)     NOT NULL,
    updated_by     nvarchar(200)    NOT NULL,
    CONSTRAINT pk_patch PRIMARY KEY (id),
    CONSTRAINT fk_patch_parent FOREIGN KEY (parent_id) REFERENCES dbo.patch (id),
    CONSTRAINT ck_patch_type CHECK (patch_type IN (N'patch', N'area')),
    CONSTRAINT ck_patch_version CHECK (version_number >= 1),
    CONSTRAINT ck_patch_not_own_parent CHECK (parent_id IS NULL OR parent_id <> id)
);
GO
CREATE INDEX ix_patch_parent_id ON dbo.patch (parent_id);
GO
CREATE TABLE dbo.responsible_entity (
    patch_id         uniqueidentifier NOT NULL,
    entity_id        uniqueidentifier NOT NULL,
    position         int              NOT NULL,
    name             nvarchar(200)    NOT NULL,
    responsible_type nvarchar(30)     NOT NULL,
    email_address    nvarchar(254)    NULL,
    CONSTRAINT pk_responsible_entity PRIMARY KEY (patch_id, entity_id),
    CONSTRAINT fk_responsible_entity_patch FOREIGN KEY (patch_id) REFERENCES dbo.patch (id),
    CONSTRAINT ck_responsible_entity_type
        CHECK (responsible_type IN (N'HousingOfficer', N'HousingAreaManager', N'Group'))
);
GO
CREATE INDEX ix_responsible_entity_entity_id ON dbo.responsible_entity (entity_id);
GO
CREATE TABLE dbo.property_patch (
    property_ref nvarchar(50)     NOT NULL,
    patch_id     uniqueidentifier NOT NULL,
    assigned_at  datetime2(3)     NOT NULL,
    assigned_by  nvarchar(200)    NOT NULL,
    CONSTRAINT pk_property_patch PRIMARY KEY (property_ref),
    CONSTRAINT fk_property_patch_patch FOREIGN KEY (patch_id) REFERENCES dbo.patch (id)
);
GO
CREATE INDEX ix_property_patch_patch_id ON dbo.property_patch (patch_id);
GO
-- History has no foreign key: it outlives a deleted patch.
CREATE TABLE dbo.patch_change (
    change_id      bigint IDENTITY(1, 1) NOT NULL,
    patch_id       uniqueidentifier NOT NULL,
    version_number int              NOT NULL,
    change_type    nvarchar(40)     NOT NULL,
    changed_by     nvarchar(200)    NOT NULL,
    changed_at     datetime2(3)     NOT NULL,
    before_json    nvarchar(max)    NULL,
    after_json     nvarchar(max)    NULL,
    CONSTRAINT pk_patch_change PRIMARY KEY (change_id)
);
GO
CREATE INDEX ix_patch_change_patch_id ON dbo.patch_change (patch_id, change_id);
