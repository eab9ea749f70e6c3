//! The reporting catalog (`views/catalog.toml`): each entity set, its key, columns with
//! EDM types and descriptions, and default order. The SQL of a set is the view file
//! `views/<dialect>/<name>.sql`.

use std::sync::OnceLock;

use serde::Deserialize;

/// The EDM type of a reporting column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum EdmType {
    /// `Edm.Guid`.
    Guid,
    /// `Edm.String`.
    String,
    /// `Edm.Int32`.
    Int32,
    /// `Edm.Int64`.
    Int64,
    /// `Edm.Boolean`.
    Boolean,
    /// `Edm.DateTimeOffset` (always UTC).
    DateTimeOffset,
}

impl EdmType {
    /// The qualified EDM name, e.g. `Edm.Guid`.
    pub fn edm_name(self) -> &'static str {
        match self {
            EdmType::Guid => "Edm.Guid",
            EdmType::String => "Edm.String",
            EdmType::Int32 => "Edm.Int32",
            EdmType::Int64 => "Edm.Int64",
            EdmType::Boolean => "Edm.Boolean",
            EdmType::DateTimeOffset => "Edm.DateTimeOffset",
        }
    }
}

/// One column of an entity set.
#[derive(Debug, Clone, Deserialize)]
pub struct Column {
    /// The column (and JSON property) name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub edm_type: EdmType,
    /// Whether it can be null.
    #[serde(default)]
    pub nullable: bool,
    /// What it holds.
    pub doc: String,
}

/// One entity set: a view and what the reporting API may do with it.
#[derive(Debug, Clone, Deserialize)]
pub struct EntitySet {
    /// The entity set and view name, e.g. `Patches`.
    pub name: String,
    /// What one row is.
    pub doc: String,
    /// The key columns; always the last sort keys.
    pub key: Vec<String>,
    /// Default order before the key.
    #[serde(default)]
    pub order: Vec<String>,
    /// Columns in the view's order.
    pub columns: Vec<Column>,
}

impl EntitySet {
    /// The column called `name` (exact, case-sensitive as OData is).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Deserialize)]
struct CatalogFile {
    entity_set: Vec<EntitySet>,
}

/// The reporting catalog.
#[derive(Debug)]
pub struct ReportCatalog {
    /// Entity sets in the order their views are created.
    pub entity_sets: Vec<EntitySet>,
}

impl ReportCatalog {
    /// The shipped catalog, parsed once. Its consistency is checked by tests.
    pub fn get() -> &'static ReportCatalog {
        static CATALOG: OnceLock<ReportCatalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            let file: CatalogFile = toml::from_str(include_str!("../../views/catalog.toml"))
                .expect("views/catalog.toml is valid (checked by tests)");
            ReportCatalog {
                entity_sets: file.entity_set,
            }
        })
    }

    /// The entity set called `name`.
    pub fn entity_set(&self, name: &str) -> Option<&EntitySet> {
        self.entity_sets.iter().find(|s| s.name == name)
    }
}
