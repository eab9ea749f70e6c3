//! A synthetic dataset of any size (`patches seed --patches N`), for benchmarks and for
//! anyone who wants a large database: N patches spread over areas of 40 under one root,
//! 1–3 responsible entities each, properties, and the history every write records.
//! Rows go through the same operations as the API, committed in batches.

use std::io::{IsTerminal, Write};

use uuid::Uuid;

use crate::domain::{
    Actor, DomainCode, EmailAddress, EntityName, PatchContent, PatchName, PatchType, PropertyRef,
    ResponsibleEntity, ResponsibleType,
};
use crate::store::patches::{
    NewPatch, PatchError, PatchStore, assign_property_in, create_in, create_many_in, timestamp_now,
};

/// How much to generate.
#[derive(Debug, Clone, Copy)]
pub struct SeedSize {
    /// Patches (areas and the root come on top: one area per 40 patches).
    pub patches: u64,
    /// Properties, assigned round-robin to the patches.
    pub properties: u64,
}

const PATCHES_PER_AREA: u64 = 40;
const BATCH: u64 = 5_000;

/// Reports progress: a bar on a terminal, plain lines otherwise.
pub struct Progress {
    label: &'static str,
    total: u64,
    last_shown: u64,
    terminal: bool,
}

impl Progress {
    /// Progress towards `total` units of `label`.
    pub fn new(label: &'static str, total: u64) -> Self {
        Progress {
            label,
            total: total.max(1),
            last_shown: u64::MAX,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Shows `done` units finished.
    pub fn show(&mut self, done: u64) {
        let percent = done * 100 / self.total;
        if percent == self.last_shown {
            return;
        }
        self.last_shown = percent;
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let filled = (percent / 4) as usize;
            let _ = write!(
                err,
                "\r{:<10} [{}{}] {percent:>3}% {done}/{}",
                self.label,
                "#".repeat(filled),
                " ".repeat(25 - filled),
                self.total
            );
            if done >= self.total {
                let _ = writeln!(err);
            }
        } else if percent.is_multiple_of(10) {
            let _ = writeln!(err, "{}: {percent}% ({done}/{})", self.label, self.total);
        }
    }
}

fn seeded_id(kind: u128, n: u64) -> Uuid {
    // Fixed ids, distinct from the demo data's, so re-running tells what exists.
    Uuid::from_u128(0x5eed_0000_0000_4000_8000_0000_0000_0000 | (kind << 64) | u128::from(n))
}

fn entity(kind: ResponsibleType, n: u64) -> Result<ResponsibleEntity, String> {
    let id_kind = match kind {
        ResponsibleType::HousingOfficer => 1,
        ResponsibleType::HousingAreaManager => 2,
        ResponsibleType::Group => 3,
    };
    Ok(ResponsibleEntity {
        id: seeded_id(id_kind, n),
        name: EntityName::parse(&format!("{kind:?} {n}"))?,
        responsible_type: kind,
        email_address: Some(EmailAddress::parse(&format!(
            "person{id_kind}.{n}@housing.example.org"
        ))?),
    })
}

fn new_patch(
    id: Uuid,
    parent: Option<Uuid>,
    name: String,
    kind: PatchType,
    entities: Vec<ResponsibleEntity>,
) -> Result<NewPatch, String> {
    Ok(NewPatch {
        id: Some(id),
        content: PatchContent {
            parent_id: parent,
            name: PatchName::parse(&name)?,
            patch_type: kind,
            domain: DomainCode::parse(if id.as_u128().is_multiple_of(5) {
                "MA"
            } else {
                "MMH"
            })?,
            responsible_entities: entities,
        },
    })
}

fn invalid(e: String) -> PatchError {
    PatchError::Store(crate::store::StoreError::Decode(e))
}

/// Generates the dataset into `store` (which should be empty of seeded ids).
pub async fn seed(store: &PatchStore, size: SeedSize) -> Result<(), PatchError> {
    let actor = Actor { id: "seed".into() };
    let root = seeded_id(10, 0);
    let areas = size.patches.div_ceil(PATCHES_PER_AREA);
    let mut tx = store.begin_write().await?;
    let at = timestamp_now();
    create_in(
        &mut *tx,
        &new_patch(root, None, "Seeded borough".into(), PatchType::Area, vec![])
            .map_err(invalid)?,
        &actor,
        at,
    )
    .await?;
    for a in 0..areas {
        let manager = entity(ResponsibleType::HousingAreaManager, a).map_err(invalid)?;
        let p = new_patch(
            seeded_id(11, a),
            Some(root),
            format!("Area {a}"),
            PatchType::Area,
            vec![manager],
        )
        .map_err(invalid)?;
        create_in(&mut *tx, &p, &actor, at).await?;
    }
    tx.commit().await?;

    let mut progress = Progress::new("patches", size.patches);
    let mut batch: Vec<(Uuid, PatchContent)> = Vec::with_capacity(BATCH as usize);
    for n in 0..size.patches {
        let mut entities = vec![entity(ResponsibleType::HousingOfficer, n).map_err(invalid)?];
        if n % 3 == 1 {
            entities
                .push(entity(ResponsibleType::HousingOfficer, n + size.patches).map_err(invalid)?);
        }
        if n % 2 == 0 {
            entities.push(entity(ResponsibleType::Group, n / 200).map_err(invalid)?);
        }
        let area = seeded_id(11, n / PATCHES_PER_AREA);
        let p = new_patch(
            seeded_id(12, n),
            Some(area),
            format!("P{n:07}"),
            PatchType::Patch,
            entities,
        )
        .map_err(invalid)?;
        batch.push((p.id.unwrap_or_default(), p.content));
        if batch.len() as u64 == BATCH || n + 1 == size.patches {
            let mut tx = store.begin_write().await?;
            create_many_in(&mut *tx, &batch, &actor, at).await?;
            tx.commit().await?;
            batch.clear();
        }
        progress.show(n + 1);
    }

    if size.properties > 0 && size.patches > 0 {
        let mut progress = Progress::new("properties", size.properties);
        let mut tx = store.begin_write().await?;
        for n in 0..size.properties {
            let property = PropertyRef::parse(&format!("S{n:011}")).map_err(invalid)?;
            assign_property_in(
                &mut *tx,
                &property,
                seeded_id(12, n % size.patches),
                &actor,
                at,
            )
            .await?;
            if (n + 1) % BATCH == 0 {
                tx.commit().await?;
                tx = store.begin_write().await?;
            }
            progress.show(n + 1);
        }
        tx.commit().await?;
    }
    Ok(())
}
