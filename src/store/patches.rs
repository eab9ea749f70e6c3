//! Patch operations, written once over [`Database`] / [`Tx`] for both dialects.
//!
//! Every write is one transaction that starts with `patch_lock_and_bump` (take the
//! row lock, check the expected version, raise it), then changes what it must and
//! appends a `patch_change` history row. Writers to one patch therefore queue on its
//! row and none is lost; a stale `If-Match` fails before anything changes.

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{Database, Row, StoreError, Tx, TxMode, Value};
use crate::domain::{
    Actor, DomainCode, EmailAddress, EntityName, ExpectedVersion, MAX_RESPONSIBLE_ENTITIES, Patch,
    PatchContent, PatchName, PatchType, PatchUpdate, PropertyRef, ResponsibleEntity,
    ResponsibleType, ValidationErrors,
};

/// Why a patch operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// No patch with that id.
    #[error("patch not found")]
    NotFound,
    /// The patch has no responsible entity with that id.
    #[error("responsible entity not found on this patch")]
    EntityNotFound,
    /// The property is not assigned to any patch.
    #[error("property not assigned to a patch")]
    PropertyNotFound,
    /// A patch with that id already exists.
    #[error("a patch with this id already exists")]
    AlreadyExists,
    /// `If-Match` named a version that is no longer current.
    #[error("version mismatch: current version is {current}")]
    VersionMismatch {
        /// The current version.
        current: i64,
    },
    /// The parent id names no patch.
    #[error("parent patch does not exist")]
    UnknownParent,
    /// The new parent is the patch itself or one of its descendants.
    #[error("the parent would make a cycle in the tree")]
    Cycle,
    /// The patch still has children or properties.
    #[error("patch has {children} children and {properties} properties")]
    HasDependents {
        /// Child patches or areas.
        children: i64,
        /// Properties assigned to it.
        properties: i64,
    },
    /// The request is invalid for the current state (e.g. too many entities).
    #[error("invalid request")]
    Invalid(ValidationErrors),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A patch to create.
#[derive(Debug, Clone)]
pub struct NewPatch {
    /// The id to use, or `None` to generate one.
    pub id: Option<Uuid>,
    /// Its content.
    pub content: PatchContent,
}

/// A change to one responsible entity (`PATCH …/responsible-entity/{reId}`): fields
/// left `None` keep their current value; a new entity needs name and type.
#[derive(Debug, Clone, Default)]
pub struct EntityChange {
    /// New display name.
    pub name: Option<EntityName>,
    /// New type.
    pub responsible_type: Option<ResponsibleType>,
    /// `Some(x)` sets the e-mail to `x` (which may be `None`); `None` keeps it.
    pub email_address: Option<Option<EmailAddress>>,
}

/// A property's assignment to a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyAssignment {
    /// The property reference.
    pub property_ref: String,
    /// The patch it belongs to.
    pub patch_id: Uuid,
    /// When it was assigned.
    pub assigned_at: DateTime<Utc>,
}

/// Who is responsible for a property: its patch, then each area above, to the root.
#[derive(Debug, Clone)]
pub struct Responsibility {
    /// The property reference as stored.
    pub property_ref: String,
    /// The property's patch first, then its ancestors, nearest first.
    pub chain: Vec<Patch>,
}

/// One change-history row.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PatchChange {
    /// Increasing id; also the paging cursor.
    pub change_id: i64,
    /// The patch changed.
    pub patch_id: Uuid,
    /// The patch's version after the change.
    pub version_number: i64,
    /// What kind of change (`Created`, `Updated`, `ResponsibleEntityAdded`, …).
    pub change_type: String,
    /// Who made it.
    pub changed_by: String,
    /// When (UTC).
    pub changed_at: DateTime<Utc>,
    /// The content before, if any.
    pub before: Option<serde_json::Value>,
    /// The content after, if any.
    pub after: Option<serde_json::Value>,
}

/// Patch operations over a database.
#[derive(Clone)]
pub struct PatchStore {
    db: Arc<dyn Database>,
}

fn now() -> DateTime<Utc> {
    // Stored with millisecond precision in both dialects; round here so what a write
    // returns is exactly what a later read returns.
    Utc::now().trunc_subsecs(3)
}

fn decode<T>(column: &str, r: Result<T, String>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Decode(format!("stored `{column}` {e}")))
}

fn entity_from_row(row: &Row) -> Result<Option<ResponsibleEntity>, StoreError> {
    let Some(id) = row.opt_uuid("entity_id")? else {
        return Ok(None);
    };
    Ok(Some(ResponsibleEntity {
        id,
        name: decode("entity_name", EntityName::parse(&row.text("entity_name")?))?,
        responsible_type: decode(
            "responsible_type",
            ResponsibleType::parse(&row.text("responsible_type")?),
        )?,
        email_address: row
            .opt_text("email_address")?
            .map(|e| decode("email_address", EmailAddress::parse(&e)))
            .transpose()?,
    }))
}

/// Folds joined patch × entity rows (ordered by patch) into patches.
fn patches_from_rows(rows: &[Row]) -> Result<Vec<Patch>, StoreError> {
    let mut patches: Vec<Patch> = Vec::new();
    for row in rows {
        let id = row.uuid("id")?;
        if patches.last().is_none_or(|p| p.id != id) {
            patches.push(Patch {
                id,
                content: PatchContent {
                    parent_id: row.opt_uuid("parent_id")?,
                    name: decode("name", PatchName::parse(&row.text("name")?))?,
                    patch_type: decode("patch_type", PatchType::parse(&row.text("patch_type")?))?,
                    domain: decode("domain", DomainCode::parse(&row.text("domain")?))?,
                    responsible_entities: Vec::new(),
                },
                version_number: row.int("version_number")?,
                created_at: row.timestamp("created_at")?,
                updated_at: row.timestamp("updated_at")?,
            });
        }
        if let (Some(entity), Some(patch)) = (entity_from_row(row)?, patches.last_mut()) {
            patch.content.responsible_entities.push(entity);
        }
    }
    Ok(patches)
}

async fn load(tx: &mut dyn Tx, id: Uuid) -> Result<Option<Patch>, PatchError> {
    let rows = tx.query("patch_get_by_id", &[id.into()]).await?;
    Ok(patches_from_rows(&rows)?.into_iter().next())
}

async fn load_existing(tx: &mut dyn Tx, id: Uuid) -> Result<Patch, PatchError> {
    load(tx, id).await?.ok_or(PatchError::NotFound)
}

async fn current_version(tx: &mut dyn Tx, id: Uuid) -> Result<Option<i64>, PatchError> {
    let rows = tx.query("patch_get_version", &[id.into()]).await?;
    Ok(rows.first().map(|r| r.int("version_number")).transpose()?)
}

/// Locks the patch row, checks the expected version and raises it; returns the new version.
async fn lock_and_bump(
    tx: &mut dyn Tx,
    id: Uuid,
    expected: ExpectedVersion,
    at: DateTime<Utc>,
    actor: &Actor,
) -> Result<i64, PatchError> {
    let rows = tx
        .query(
            "patch_lock_and_bump",
            &[
                id.into(),
                expected.as_option().into(),
                at.into(),
                actor.id.as_str().into(),
            ],
        )
        .await?;
    match rows.first() {
        // Re-read rather than trust OUTPUT/RETURNING: Babelfish's OUTPUT can report the
        // pre-wait value when this UPDATE queued behind another writer. The row is
        // locked now, so this read is the version this transaction wrote.
        Some(_) => current_version(tx, id).await?.ok_or(PatchError::NotFound),
        None => match current_version(tx, id).await? {
            None => Err(PatchError::NotFound),
            Some(current) => Err(PatchError::VersionMismatch { current }),
        },
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Decode(e.to_string()))
}

fn patch_insert_params(id: Uuid, c: &PatchContent, actor: &Actor, at: DateTime<Utc>) -> Vec<Value> {
    vec![
        id.into(),
        c.parent_id.into(),
        c.name.as_str().into(),
        c.patch_type.as_str().into(),
        c.domain.as_str().into(),
        at.into(),
        actor.id.as_str().into(),
    ]
}

fn entity_params(patch_id: Uuid, e: &ResponsibleEntity) -> Vec<Value> {
    vec![
        patch_id.into(),
        e.id.into(),
        e.name.as_str().into(),
        e.responsible_type.as_str().into(),
        e.email_address.as_ref().map(|m| m.as_str()).into(),
    ]
}

#[allow(clippy::too_many_arguments)]
fn change_params<B: Serialize, A: Serialize>(
    patch_id: Uuid,
    version: i64,
    change_type: &str,
    actor: &Actor,
    at: DateTime<Utc>,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<Vec<Value>, StoreError> {
    Ok(vec![
        patch_id.into(),
        version.into(),
        change_type.into(),
        actor.id.as_str().into(),
        at.into(),
        before.map(to_json).transpose()?.into(),
        after.map(to_json).transpose()?.into(),
    ])
}

#[allow(clippy::too_many_arguments)]
async fn record<B: Serialize, A: Serialize>(
    tx: &mut dyn Tx,
    patch_id: Uuid,
    version: i64,
    change_type: &str,
    actor: &Actor,
    at: DateTime<Utc>,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<(), PatchError> {
    let params = change_params(patch_id, version, change_type, actor, at, before, after)?;
    tx.execute("patch_change_insert", &params).await?;
    Ok(())
}

async fn insert_entity(
    tx: &mut dyn Tx,
    patch_id: Uuid,
    e: &ResponsibleEntity,
) -> Result<(), PatchError> {
    tx.execute("responsible_entity_insert", &entity_params(patch_id, e))
        .await?;
    Ok(())
}

/// Checks that `parent` exists and that making it the parent of `child` makes no cycle.
async fn check_parent(
    tx: &mut dyn Tx,
    child: Uuid,
    parent: Option<Uuid>,
) -> Result<(), PatchError> {
    let Some(parent) = parent else { return Ok(()) };
    if parent == child {
        return Err(PatchError::Cycle);
    }
    let chain = tx.query("patch_ancestors", &[parent.into()]).await?;
    if chain.is_empty() {
        return Err(PatchError::UnknownParent);
    }
    for row in &chain {
        if row.uuid("id")? == child {
            return Err(PatchError::Cycle);
        }
    }
    Ok(())
}

/// Before a write that may move `id` under `new_parent`: if the parent changes, take
/// the tree lock first (before any row lock, so movers queue in one order and
/// cannot deadlock with ordinary writers), so concurrent moves check for cycles one
/// after another. The unlocked read only decides whether to take it; the cycle
/// check after the row lock is what protects the tree.
async fn take_tree_lock_for_move(
    tx: &mut dyn Tx,
    id: Uuid,
    new_parent: Option<Uuid>,
) -> Result<(), PatchError> {
    if let Some(current) = load(tx, id).await?
        && current.content.parent_id != new_parent
    {
        tx.execute("tree_lock_take", &[]).await?;
    }
    Ok(())
}

/// Writes a patch's name, type, domain and parent (after its row is locked); a parent
/// deleted meanwhile is `UnknownParent`.
async fn write_fields(tx: &mut dyn Tx, id: Uuid, fields: &PatchUpdate) -> Result<(), PatchError> {
    tx.execute(
        "patch_update",
        &[
            id.into(),
            fields.parent_id.into(),
            fields.name.as_str().into(),
            fields.patch_type.as_str().into(),
            fields.domain.as_str().into(),
        ],
    )
    .await
    .map_err(|e| match e {
        StoreError::ForeignKeyViolation(_) => PatchError::UnknownParent,
        other => other.into(),
    })?;
    Ok(())
}

/// Replaces a patch's whole responsible-entity list, in order (after its row is locked).
async fn write_entities(
    tx: &mut dyn Tx,
    id: Uuid,
    entities: &[ResponsibleEntity],
) -> Result<(), PatchError> {
    tx.execute("responsible_entity_delete_all", &[id.into()])
        .await?;
    for entity in entities {
        insert_entity(tx, id, entity).await?;
    }
    Ok(())
}

/// Loads the patch as changed and records the change from `before` to it.
#[allow(clippy::too_many_arguments)]
async fn record_change(
    tx: &mut dyn Tx,
    id: Uuid,
    version: i64,
    change_type: &str,
    actor: &Actor,
    at: DateTime<Utc>,
    before: &Patch,
) -> Result<Patch, PatchError> {
    let after = load_existing(tx, id).await?;
    record(
        tx,
        id,
        version,
        change_type,
        actor,
        at,
        Some(&before.content),
        Some(&after.content),
    )
    .await?;
    Ok(after)
}

/// Creates a patch inside an open transaction (used by the API and the demo loader).
pub(crate) async fn create_in(
    tx: &mut dyn Tx,
    new: &NewPatch,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Patch, PatchError> {
    let id = new.id.unwrap_or_else(Uuid::new_v4);
    if current_version(tx, id).await?.is_some() {
        return Err(PatchError::AlreadyExists);
    }
    check_parent(tx, id, new.content.parent_id).await?;
    let c = &new.content;
    tx.execute("patch_insert", &patch_insert_params(id, c, actor, at))
        .await
        .map_err(|e| match e {
            StoreError::UniqueViolation(_) => PatchError::AlreadyExists,
            StoreError::ForeignKeyViolation(_) => PatchError::UnknownParent,
            other => other.into(),
        })?;
    for entity in &c.responsible_entities {
        insert_entity(tx, id, entity).await?;
    }
    record::<PatchContent, _>(tx, id, 1, "Created", actor, at, None, Some(c)).await?;
    load_existing(tx, id).await
}

/// What an idempotent import did to one patch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// It did not exist and was created (version 1).
    Created,
    /// It existed with other content and was changed (version raised by one).
    Updated,
    /// It existed with the same content; nothing was written.
    Unchanged,
}

/// Creates the patch, or brings an existing one to `content` (fields and the whole
/// responsible-entity list) with one version bump and an `Imported` history row, or
/// leaves it alone when it already matches: running it twice changes nothing.
pub(crate) async fn upsert_in(
    tx: &mut dyn Tx,
    id: Uuid,
    content: &PatchContent,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<Upserted, PatchError> {
    match load(tx, id).await? {
        None => {
            let new = NewPatch {
                id: Some(id),
                content: content.clone(),
            };
            create_in(tx, &new, actor, at).await?;
            Ok(Upserted::Created)
        }
        Some(current) if current.content == *content => Ok(Upserted::Unchanged),
        Some(_) => {
            take_tree_lock_for_move(tx, id, content.parent_id).await?;
            let version = lock_and_bump(tx, id, ExpectedVersion::Any, at, actor).await?;
            let before = load_existing(tx, id).await?;
            check_parent(tx, id, content.parent_id).await?;
            let fields = PatchUpdate {
                parent_id: content.parent_id,
                name: content.name.clone(),
                patch_type: content.patch_type,
                domain: content.domain.clone(),
            };
            write_fields(tx, id, &fields).await?;
            write_entities(tx, id, &content.responsible_entities).await?;
            record_change(tx, id, version, "Imported", actor, at, &before).await?;
            Ok(Upserted::Updated)
        }
    }
}

/// Creates many patches inside an open transaction in three bulk statements (rows,
/// responsible entities, history), for trusted generated data (`patches seed`): no
/// existence checks beyond the database's own keys. Parents must come first.
pub(crate) async fn create_many_in(
    tx: &mut dyn Tx,
    patches: &[(Uuid, PatchContent)],
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<(), PatchError> {
    let rows = patches
        .iter()
        .map(|(id, c)| patch_insert_params(*id, c, actor, at))
        .collect();
    tx.execute_many("patch_insert", rows).await?;
    let entities = patches
        .iter()
        .flat_map(|(id, c)| c.responsible_entities.iter().map(|e| entity_params(*id, e)))
        .collect();
    tx.execute_many("responsible_entity_insert", entities)
        .await?;
    let changes = patches
        .iter()
        .map(|(id, c)| {
            change_params::<PatchContent, _>(*id, 1, "Created", actor, at, None, Some(c))
        })
        .collect::<Result<Vec<_>, _>>()?;
    tx.execute_many("patch_change_insert", changes).await?;
    Ok(())
}

/// Assigns a property inside an open transaction (used by the API and the demo loader).
pub(crate) async fn assign_property_in(
    tx: &mut dyn Tx,
    property_ref: &PropertyRef,
    patch_id: Uuid,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<PropertyAssignment, PatchError> {
    let Some(version) = current_version(tx, patch_id).await? else {
        return Err(PatchError::NotFound);
    };
    let previous = tx
        .query("property_get", &[property_ref.as_str().into()])
        .await?
        .first()
        .map(|r| r.uuid("patch_id"))
        .transpose()?;
    tx.execute(
        "property_assign",
        &[
            property_ref.as_str().into(),
            patch_id.into(),
            at.into(),
            actor.id.as_str().into(),
        ],
    )
    .await
    .map_err(|e| match e {
        // The patch was deleted since it was read above.
        StoreError::ForeignKeyViolation(_) => PatchError::NotFound,
        other => other.into(),
    })?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Assignment<'a> {
        property_ref: &'a str,
        patch_id: Option<Uuid>,
    }
    let before = Assignment {
        property_ref: property_ref.as_str(),
        patch_id: previous,
    };
    let after = Assignment {
        property_ref: property_ref.as_str(),
        patch_id: Some(patch_id),
    };
    if previous != Some(patch_id) {
        let old_version = match previous {
            Some(old) => current_version(tx, old).await?.map(|v| (old, v)),
            None => None,
        };
        if let Some((old, old_version)) = old_version {
            record(
                tx,
                old,
                old_version,
                "PropertyUnassigned",
                actor,
                at,
                Some(&before),
                Some(&after),
            )
            .await?;
        }
        record(
            tx,
            patch_id,
            version,
            "PropertyAssigned",
            actor,
            at,
            Some(&before),
            Some(&after),
        )
        .await?;
    }
    Ok(PropertyAssignment {
        property_ref: property_ref.as_str().to_string(),
        patch_id,
        assigned_at: at,
    })
}

/// Commits `result`'s work, or rolls it back (keeping the connection usable) on error.
async fn finish<T>(tx: Box<dyn Tx>, result: Result<T, PatchError>) -> Result<T, PatchError> {
    match result {
        Ok(value) => {
            tx.commit().await?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(error = %rollback, "rollback failed; the connection is discarded");
            }
            Err(e)
        }
    }
}

impl PatchStore {
    /// Patch operations over `db`.
    pub fn new(db: Arc<dyn Database>) -> Self {
        PatchStore { db }
    }

    /// The underlying database.
    pub fn database(&self) -> &Arc<dyn Database> {
        &self.db
    }

    async fn read_list(&self, name: &str, params: &[Value]) -> Result<Vec<Patch>, PatchError> {
        let mut tx = self.db.begin(TxMode::Read).await?;
        let rows = tx.query(name, params).await?;
        Ok(patches_from_rows(&rows)?)
    }

    /// One patch with its responsible entities.
    pub async fn get(&self, id: Uuid) -> Result<Patch, PatchError> {
        self.read_list("patch_get_by_id", &[id.into()])
            .await?
            .into_iter()
            .next()
            .ok_or(PatchError::NotFound)
    }

    /// The children of a patch or area (empty when none or when the parent is unknown).
    pub async fn children(&self, parent_id: Uuid) -> Result<Vec<Patch>, PatchError> {
        self.read_list("patch_list_by_parent", &[parent_id.into()])
            .await
    }

    /// The patches a person or group is responsible for.
    pub async fn by_responsible_entity(&self, entity_id: Uuid) -> Result<Vec<Patch>, PatchError> {
        self.read_list("patch_list_by_responsible_entity", &[entity_id.into()])
            .await
    }

    /// Every patch and area.
    pub async fn all(&self) -> Result<Vec<Patch>, PatchError> {
        self.read_list("patch_list_all", &[]).await
    }

    /// Whether the database holds no patch at all.
    pub async fn is_empty(&self) -> Result<bool, PatchError> {
        let mut tx = self.db.begin(TxMode::Read).await?;
        Ok(tx.query("patch_any", &[]).await?.is_empty())
    }

    /// Whether the database answers a query on the migrated schema.
    pub async fn ready(&self) -> Result<(), PatchError> {
        let mut tx = self.db.begin(TxMode::Read).await?;
        tx.query("health_check", &[]).await?;
        Ok(())
    }

    /// Creates a patch or area at version 1.
    pub async fn create(&self, new: &NewPatch, actor: &Actor) -> Result<Patch, PatchError> {
        let mut tx = self.db.begin(TxMode::Write).await?;
        let result = async {
            let patch = create_in(&mut *tx, new, actor, now()).await?;
            Ok::<_, PatchError>(patch)
        }
        .await;
        finish(tx, result).await
    }

    /// Replaces name, type, domain and parent.
    pub async fn update(
        &self,
        id: Uuid,
        expected: ExpectedVersion,
        update: &PatchUpdate,
        actor: &Actor,
    ) -> Result<Patch, PatchError> {
        let at = now();
        let mut tx = self.db.begin(TxMode::Write).await?;
        let result = async {
            take_tree_lock_for_move(&mut *tx, id, update.parent_id).await?;
            let version = lock_and_bump(&mut *tx, id, expected, at, actor).await?;
            let before = load_existing(&mut *tx, id).await?;
            check_parent(&mut *tx, id, update.parent_id).await?;
            write_fields(&mut *tx, id, update).await?;
            record_change(&mut *tx, id, version, "Updated", actor, at, &before).await
        }
        .await;
        finish(tx, result).await
    }

    /// Deletes a patch that has no children and no properties; its history stays.
    pub async fn delete(
        &self,
        id: Uuid,
        expected: ExpectedVersion,
        actor: &Actor,
    ) -> Result<(), PatchError> {
        let at = now();
        let mut tx = self.db.begin(TxMode::Write).await?;
        let result = async {
            let version = lock_and_bump(&mut *tx, id, expected, at, actor).await?;
            let before = load_existing(&mut *tx, id).await?;
            let counts = tx.query("patch_count_dependents", &[id.into()]).await?;
            if let Some(row) = counts.first() {
                let (children, properties) = (row.int("children")?, row.int("properties")?);
                if children > 0 || properties > 0 {
                    return Err(PatchError::HasDependents {
                        children,
                        properties,
                    });
                }
            }
            tx.execute("responsible_entity_delete_all", &[id.into()])
                .await?;
            tx.execute("patch_delete", &[id.into()])
                .await
                .map_err(|e| match e {
                    // A child or property added since the count above.
                    StoreError::ForeignKeyViolation(_) => PatchError::HasDependents {
                        children: 0,
                        properties: 0,
                    },
                    other => other.into(),
                })?;
            record::<_, PatchContent>(
                &mut *tx,
                id,
                version,
                "Deleted",
                actor,
                at,
                Some(&before.content),
                None,
            )
            .await?;
            Ok::<_, PatchError>(())
        }
        .await;
        finish(tx, result).await
    }

    /// Adds a responsible entity to a patch, or changes one already on it.
    pub async fn upsert_responsible_entity(
        &self,
        id: Uuid,
        entity_id: Uuid,
        change: &EntityChange,
        expected: ExpectedVersion,
        actor: &Actor,
    ) -> Result<Patch, PatchError> {
        let at = now();
        let mut tx = self.db.begin(TxMode::Write).await?;
        let result = async {
            let version = lock_and_bump(&mut *tx, id, expected, at, actor).await?;
            let before = load_existing(&mut *tx, id).await?;
            let existing = before
                .content
                .responsible_entities
                .iter()
                .find(|e| e.id == entity_id);
            let change_type = match existing {
                Some(current) => {
                    let name = change.name.as_ref().unwrap_or(&current.name);
                    let kind = change.responsible_type.unwrap_or(current.responsible_type);
                    let email = change
                        .email_address
                        .clone()
                        .unwrap_or_else(|| current.email_address.clone());
                    tx.execute(
                        "responsible_entity_update",
                        &[
                            id.into(),
                            entity_id.into(),
                            name.as_str().into(),
                            kind.as_str().into(),
                            email.as_ref().map(|m| m.as_str()).into(),
                        ],
                    )
                    .await?;
                    "ResponsibleEntityUpdated"
                }
                None => {
                    let mut errors = ValidationErrors::new();
                    if change.name.is_none() {
                        errors.add("name", "is required to add a responsible entity");
                    }
                    if change.responsible_type.is_none() {
                        errors.add("responsibleType", "is required to add a responsible entity");
                    }
                    let (Some(name), Some(kind)) = (change.name.clone(), change.responsible_type)
                    else {
                        return Err(PatchError::Invalid(errors));
                    };
                    if before.content.responsible_entities.len() >= MAX_RESPONSIBLE_ENTITIES {
                        errors.add(
                            "responsibleEntities",
                            format!(
                                "a patch holds at most {MAX_RESPONSIBLE_ENTITIES} responsible entities"
                            ),
                        );
                        return Err(PatchError::Invalid(errors));
                    }
                    let entity = ResponsibleEntity {
                        id: entity_id,
                        name,
                        responsible_type: kind,
                        email_address: change.email_address.clone().flatten(),
                    };
                    insert_entity(&mut *tx, id, &entity).await?;
                    "ResponsibleEntityAdded"
                }
            };
            record_change(&mut *tx, id, version, change_type, actor, at, &before).await
        }
        .await;
        finish(tx, result).await
    }

    /// Removes one responsible entity from a patch.
    pub async fn remove_responsible_entity(
        &self,
        id: Uuid,
        entity_id: Uuid,
        expected: ExpectedVersion,
        actor: &Actor,
    ) -> Result<Patch, PatchError> {
        let at = now();
        let mut tx = self.db.begin(TxMode::Write).await?;
        let result = async {
            let version = lock_and_bump(&mut *tx, id, expected, at, actor).await?;
            let before = load_existing(&mut *tx, id).await?;
            let removed = tx
                .execute("responsible_entity_delete", &[id.into(), entity_id.into()])
                .await?;
            if removed == 0 {
                return Err(PatchError::EntityNotFound);
            }
            record_change(
                &mut *tx,
                id,
                version,
                "ResponsibleEntityRemoved",
                actor,
                at,
                &before,
            )
            .await
        }
        .await;
        finish(tx, result).await
    }

    /// Replaces the whole list of responsible entities (reassignment).
    pub async fn replace_responsible_entities(
        &self,
        id: Uuid,
        entities: &[ResponsibleEntity],
        expected: ExpectedVersion,
        actor: &Actor,
    ) -> Result<Patch, PatchError> {
        let at = now();
        let mut tx = self.db.begin(TxMode::Write).await?;
        let result = async {
            let version = lock_and_bump(&mut *tx, id, expected, at, actor).await?;
            let before = load_existing(&mut *tx, id).await?;
            write_entities(&mut *tx, id, entities).await?;
            record_change(
                &mut *tx,
                id,
                version,
                "ResponsibleEntitiesReplaced",
                actor,
                at,
                &before,
            )
            .await
        }
        .await;
        finish(tx, result).await
    }

    /// Assigns a property to a patch (replacing any earlier assignment). Two first
    /// assignments of one property racing each other may meet the primary key where
    /// hints are not honoured (Babelfish); the loser simply tries once more.
    pub async fn assign_property(
        &self,
        property_ref: &PropertyRef,
        patch_id: Uuid,
        actor: &Actor,
    ) -> Result<PropertyAssignment, PatchError> {
        let mut attempt = 0;
        loop {
            let mut tx = self.db.begin(TxMode::Write).await?;
            let result = assign_property_in(&mut *tx, property_ref, patch_id, actor, now()).await;
            match finish(tx, result).await {
                Err(PatchError::Store(StoreError::UniqueViolation(_))) if attempt == 0 => {
                    attempt += 1
                }
                other => return other,
            }
        }
    }

    /// The property's patch and every area above it, each with its responsible entities.
    pub async fn responsibility(
        &self,
        property_ref: &PropertyRef,
    ) -> Result<Responsibility, PatchError> {
        let mut tx = self.db.begin(TxMode::Read).await?;
        let rows = tx
            .query("property_responsibility", &[property_ref.as_str().into()])
            .await?;
        let chain = patches_from_rows(&rows)?;
        if chain.is_empty() {
            return Err(PatchError::PropertyNotFound);
        }
        Ok(Responsibility {
            property_ref: property_ref.as_str().to_string(),
            chain,
        })
    }

    /// One page of a patch's history, newest first; `NotFound` when the patch never existed.
    pub async fn history(
        &self,
        id: Uuid,
        before_change_id: Option<i64>,
        take: i64,
    ) -> Result<Vec<PatchChange>, PatchError> {
        let mut tx = self.db.begin(TxMode::Read).await?;
        let rows = tx
            .query(
                "patch_change_list",
                &[id.into(), before_change_id.into(), take.into()],
            )
            .await?;
        if rows.is_empty() && current_version(&mut *tx, id).await?.is_none() {
            return Err(PatchError::NotFound);
        }
        let json = |row: &Row, column: &str| -> Result<Option<serde_json::Value>, StoreError> {
            row.opt_text(column)?
                .map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Decode(e.to_string())))
                .transpose()
        };
        rows.iter()
            .map(|row| {
                Ok(PatchChange {
                    change_id: row.int("change_id")?,
                    patch_id: row.uuid("patch_id")?,
                    version_number: row.int("version_number")?,
                    change_type: row.text("change_type")?,
                    changed_by: row.text("changed_by")?,
                    changed_at: row.timestamp("changed_at")?,
                    before: json(row, "before_json")?,
                    after: json(row, "after_json")?,
                })
            })
            .collect::<Result<_, StoreError>>()
            .map_err(PatchError::from)
    }

    /// Whether a patch with this id exists.
    pub async fn exists(&self, id: Uuid) -> Result<bool, PatchError> {
        let mut tx = self.db.begin(TxMode::Read).await?;
        Ok(current_version(&mut *tx, id).await?.is_some())
    }

    /// Imports patches in one transaction, parents first: all of them or none.
    /// `progress` is told how many are done.
    pub async fn import(
        &self,
        patches: &[(Uuid, PatchContent)],
        actor: &Actor,
        mut progress: impl FnMut(usize),
    ) -> Result<Vec<Upserted>, PatchError> {
        let at = now();
        let mut tx = self.db.begin(TxMode::Write).await?;
        let result = async {
            let mut outcomes = Vec::with_capacity(patches.len());
            for (i, (id, content)) in patches.iter().enumerate() {
                outcomes.push(upsert_in(&mut *tx, *id, content, actor, at).await?);
                progress(i + 1);
            }
            Ok::<_, PatchError>(outcomes)
        }
        .await;
        finish(tx, result).await
    }

    /// A write transaction for bulk loads (demo data) that use the `*_in` functions.
    pub(crate) async fn begin_write(&self) -> Result<Box<dyn Tx>, PatchError> {
        Ok(self.db.begin(TxMode::Write).await?)
    }
}

/// The current time as stored (milliseconds), for callers of the `*_in` functions.
pub fn timestamp_now() -> DateTime<Utc> {
    now()
}
