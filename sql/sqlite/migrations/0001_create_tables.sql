-- name: 0001_create_tables
-- doc: Creates the tables of patches and areas (one self-referencing table), their
-- doc: responsible entities, property-to-patch assignments and the change history,
-- doc: with an index for every lookup the API makes (by parent, by responsible
-- doc: entity, by property, by patch for history).
-- GUIDs are stored as lower-case hyphenated text, timestamps as UTC ISO-8601 text
-- with milliseconds; NOCASE matches SQL Server's default case-insensitive collation.
CREATE TABLE patch (
    id             TEXT    NOT NULL PRIMARY KEY,
    parent_id      TEXT    NULL REFERENCES patch (id),
    name           TEXT    NOT NULL COLLATE NOCASE,
    patch_type     TEXT    NOT NULL CHECK (patch_type IN ('patch', 'area')),
    domain         TEXT    NOT NULL COLLATE NOCASE,
    version_number INTEGER NOT NULL CHECK (version_number >= 1),
    created_at     TEXT    NOT NULL,
    created_by     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    updated_by     TEXT    NOT NULL,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX ix_patch_parent_id ON patch (parent_id);

CREATE TABLE responsible_entity (
    patch_id         TEXT    NOT NULL REFERENCES patch (id),
    entity_id        TEXT    NOT NULL,
    position         INTEGER NOT NULL,
    name             TEXT    NOT NULL COLLATE NOCASE,
    responsible_type TEXT    NOT NULL
        CHECK (responsible_type IN ('HousingOfficer', 'HousingAreaManager', 'Group')),
    email_address    TEXT    NULL COLLATE NOCASE,
    PRIMARY KEY (patch_id, entity_id)
);
CREATE INDEX ix_responsible_entity_entity_id ON responsible_entity (entity_id);

CREATE TABLE property_patch (
    property_ref TEXT NOT NULL PRIMARY KEY COLLATE NOCASE,
    patch_id     TEXT NOT NULL REFERENCES patch (id),
    assigned_at  TEXT NOT NULL,
    assigned_by  TEXT NOT NULL
);
CREATE INDEX ix_property_patch_patch_id ON property_patch (patch_id);

-- History has no foreign key: it outlives a deleted patch.
CREATE TABLE patch_change (
    change_id      INTEGER PRIMARY KEY AUTOINCREMENT,
    patch_id       TEXT    NOT NULL,
    version_number INTEGER NOT NULL,
    change_type    TEXT    NOT NULL,
    changed_by     TEXT    NOT NULL,
    changed_at     TEXT    NOT NULL,
    before_json    TEXT    NULL,
    after_json     TEXT    NULL
);
CREATE INDEX ix_patch_change_patch_id ON patch_change (patch_id, change_id);
