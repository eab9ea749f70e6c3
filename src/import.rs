//! `patches import FILE.csv [--apply]`: loads patches from the legacy systems.
//!
//! Layout: one row per patch × responsible entity, with a header row:
//!
//! ```text
//! patchId,parentId,patchName,patchType,domain,entityId,entityName,entityType,entityEmail
//! ```
//!
//! A patch without responsible entities has one row with the entity columns empty; the
//! rows of one patch repeat its patch columns identically. Every row is validated and
//! every problem reported (line, column, reason) before anything is written; without
//! `--apply` nothing is written at all. With it, everything is written in one
//! transaction (all or nothing), parents first, and a re-run changes nothing.

use std::collections::{BTreeMap, HashMap};

use uuid::Uuid;

use crate::domain::{
    DomainCode, EmailAddress, EntityName, PatchContent, PatchName, PatchType, ResponsibleEntity,
    ResponsibleType, ValidationErrors, check_entity_list, parse_guid,
};
use crate::store::patches::{PatchError, PatchStore};

/// The columns of an import file, in order.
pub const COLUMNS: [&str; 9] = [
    "patchId",
    "parentId",
    "patchName",
    "patchType",
    "domain",
    "entityId",
    "entityName",
    "entityType",
    "entityEmail",
];

/// One problem in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The 1-based line in the file (the header is line 1).
    pub line: u64,
    /// The column at fault (`-` for the row as a whole).
    pub column: String,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

/// A validated file: its patches in an order that puts parents first.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    /// Patches, parents before children.
    pub patches: Vec<(Uuid, PatchContent)>,
    /// Data rows read.
    pub rows: u64,
}

fn cell(record: &csv::StringRecord, i: usize) -> Option<&str> {
    record.get(i).map(str::trim).filter(|v| !v.is_empty())
}

struct Draft {
    line: u64,
    content: PatchContent,
    /// The patch columns as written, to check that every row of the patch agrees.
    signature: Vec<String>,
}

/// Reads and validates an import file. `exists` tells whether a parent that is not in
/// the file is already in the database.
pub async fn validate(
    input: impl std::io::Read,
    store: &PatchStore,
) -> Result<ImportPlan, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let mut errors: Vec<RowError> = Vec::new();
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            return Err(vec![RowError {
                line: 1,
                column: "-".into(),
                reason: format!("unreadable header: {e}"),
            }]);
        }
    };
    if header != COLUMNS {
        return Err(vec![RowError {
            line: 1,
            column: "-".into(),
            reason: format!("the header must be exactly {}", COLUMNS.join(",")),
        }]);
    }
    let mut drafts: BTreeMap<Uuid, Draft> = BTreeMap::new();
    let mut order: Vec<Uuid> = Vec::new();
    let mut rows = 0u64;
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    column: "-".into(),
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        rows += 1;
        let line = record.position().map_or(rows + 1, |p| p.line());
        if record.len() != COLUMNS.len() {
            errors.push(RowError {
                line,
                column: "-".into(),
                reason: format!("has {} fields, expected {}", record.len(), COLUMNS.len()),
            });
            continue;
        }
        let mut v = ValidationErrors::new();
        let id = v
            .require("patchId", cell(&record, 0))
            .and_then(|s| v.check("patchId", parse_guid(s)));
        let parent = match cell(&record, 1) {
            None => Some(None),
            Some(s) => v.check("parentId", parse_guid(s)).map(Some),
        };
        let name = v
            .require("patchName", cell(&record, 2))
            .and_then(|s| v.check("patchName", PatchName::parse(s)));
        let kind = v
            .require("patchType", cell(&record, 3))
            .and_then(|s| v.check("patchType", PatchType::parse(s)));
        let domain = v
            .require("domain", cell(&record, 4))
            .and_then(|s| v.check("domain", DomainCode::parse(s)));
        let entity = match (
            cell(&record, 5),
            cell(&record, 6),
            cell(&record, 7),
            cell(&record, 8),
        ) {
            (None, None, None, None) => Some(None),
            (eid, ename, etype, email) => {
                let eid = v
                    .require("entityId", eid)
                    .and_then(|s| v.check("entityId", parse_guid(s)));
                let ename = v
                    .require("entityName", ename)
                    .and_then(|s| v.check("entityName", EntityName::parse(s)));
                let etype = v
                    .require("entityType", etype)
                    .and_then(|s| v.check("entityType", ResponsibleType::parse(s)));
                let email = match email {
                    None => Some(None),
                    Some(e) => v.check("entityEmail", EmailAddress::parse(e)).map(Some),
                };
                match (eid, ename, etype, email) {
                    (Some(id), Some(name), Some(responsible_type), Some(email_address)) => {
                        Some(Some(ResponsibleEntity {
                            id,
                            name,
                            responsible_type,
                            email_address,
                        }))
                    }
                    _ => None,
                }
            }
        };
        for (column, messages) in v.into_map() {
            for reason in messages {
                errors.push(RowError {
                    line,
                    column: column.clone(),
                    reason,
                });
            }
        }
        let (Some(id), Some(parent_id), Some(name), Some(patch_type), Some(domain), Some(entity)) =
            (id, parent, name, kind, domain, entity)
        else {
            continue;
        };
        let signature: Vec<String> = (1..5)
            .map(|i| cell(&record, i).unwrap_or("").to_string())
            .collect();
        let draft = drafts.entry(id).or_insert_with(|| {
            order.push(id);
            Draft {
                line,
                content: PatchContent {
                    parent_id,
                    name,
                    patch_type,
                    domain,
                    responsible_entities: Vec::new(),
                },
                signature: signature.clone(),
            }
        });
        if draft.signature != signature {
            errors.push(RowError {
                line,
                column: "-".into(),
                reason: format!("patch {id} has other patch columns on line {}", draft.line),
            });
            continue;
        }
        if let Some(e) = entity {
            draft.content.responsible_entities.push(e);
        }
    }
    for (id, draft) in &drafts {
        let mut v = ValidationErrors::new();
        check_entity_list(&draft.content.responsible_entities, "entityId", &mut v);
        for (_, messages) in v.into_map() {
            for reason in messages {
                errors.push(RowError {
                    line: draft.line,
                    column: "entityId".into(),
                    reason: format!("patch {id}: {reason}"),
                });
            }
        }
    }
    // Parents: in the file or in the database, and no cycles; then parents first.
    let mut depth: HashMap<Uuid, usize> = HashMap::new();
    let mut in_database: HashMap<Uuid, bool> = HashMap::new();
    for id in &order {
        let mut chain = vec![*id];
        let mut current = drafts[id].content.parent_id;
        let mut problem = None;
        while let Some(parent) = current {
            if chain.contains(&parent) {
                problem = Some(format!("parent chain of {id} loops back to {parent}"));
                break;
            }
            match drafts.get(&parent) {
                Some(d) => {
                    chain.push(parent);
                    current = d.content.parent_id;
                }
                None => {
                    let known = match in_database.get(&parent) {
                        Some(k) => Ok(*k),
                        None => store.exists(parent).await,
                    };
                    match known {
                        Ok(k) => {
                            in_database.insert(parent, k);
                            if !k {
                                problem = Some(format!(
                                    "parent {parent} is neither in the file nor in the database"
                                ));
                            }
                        }
                        Err(e) => problem = Some(format!("cannot check parent {parent}: {e}")),
                    }
                    break;
                }
            }
            if chain.len() > 64 {
                problem = Some("the tree is more than 64 levels deep".into());
                break;
            }
        }
        match problem {
            Some(reason) => errors.push(RowError {
                line: drafts[id].line,
                column: "parentId".into(),
                reason,
            }),
            None => {
                depth.insert(*id, chain.len());
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by(|a, b| (a.line, &a.column).cmp(&(b.line, &b.column)));
        return Err(errors);
    }
    let mut patches: Vec<(Uuid, PatchContent)> = order
        .iter()
        .map(|id| (*id, drafts[id].content.clone()))
        .collect();
    patches.sort_by_key(|(id, _)| depth.get(id).copied().unwrap_or(0));
    Ok(ImportPlan { patches, rows })
}

/// Counts of what an import did or would do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Patches created.
    pub created: usize,
    /// Patches changed.
    pub updated: usize,
    /// Patches already as in the file.
    pub unchanged: usize,
}

/// Writes a validated plan in one transaction.
pub async fn apply(
    plan: &ImportPlan,
    store: &PatchStore,
    actor: &crate::domain::Actor,
    progress: impl FnMut(usize),
) -> Result<ImportSummary, PatchError> {
    use crate::store::patches::Upserted;
    let outcomes = store.import(&plan.patches, actor, progress).await?;
    let mut summary = ImportSummary::default();
    for o in outcomes {
        match o {
            Upserted::Created => summary.created += 1,
            Upserted::Updated => summary.updated += 1,
            Upserted::Unchanged => summary.unchanged += 1,
        }
    }
    Ok(summary)
}
