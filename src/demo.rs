//! A small, realistic dataset loaded into an empty database so a newcomer sees
//! something at once: one borough root, five areas of eight patches each, officers,
//! area managers, two income-collection groups and 200 properties. Ids are fixed, so
//! the docs can use them in examples.

use uuid::Uuid;

use crate::domain::{
    Actor, DomainCode, EmailAddress, EntityName, PatchContent, PatchName, PatchType, PropertyRef,
    ResponsibleEntity, ResponsibleType,
};
use crate::store::patches::{
    NewPatch, PatchError, PatchStore, assign_property_in, create_in, timestamp_now,
};

/// The root area of the demo data.
pub const ROOT_ID: Uuid = Uuid::from_u128(0x0d7a5a7e_9c0b_4f6e_8f0e_6a1c2b3d4e5f);

const AREAS: [(&str, &str); 5] = [
    ("Clapton", "CL"),
    ("Dalston", "DA"),
    ("Homerton", "HM"),
    ("Hoxton", "HX"),
    ("Stoke Newington", "SN"),
];

const FIRST: [&str; 16] = [
    "Amara", "Ben", "Chloe", "Dev", "Efua", "Finn", "Grace", "Hassan", "Isla", "Jamal", "Kasia",
    "Liam", "Maya", "Nadia", "Omar", "Priya",
];
const LAST: [&str; 9] = [
    "Adeyemi",
    "Brennan",
    "Chowdhury",
    "Demir",
    "Evans",
    "Fischer",
    "Gordon",
    "Hussain",
    "Ivanova",
];

/// Deterministic ids: a fixed prefix, a kind and a number.
fn demo_id(kind: u128, n: u128) -> Uuid {
    Uuid::from_u128(0x6f1c3c8e_2b1a_4b8f_9a53_000000000000 | (kind << 32) | n)
}

fn person(kind: ResponsibleType, n: usize) -> Result<ResponsibleEntity, String> {
    let first = FIRST[n % FIRST.len()];
    let last = LAST[(n / FIRST.len() + n) % LAST.len()];
    let id_kind = match kind {
        ResponsibleType::HousingOfficer => 1,
        ResponsibleType::HousingAreaManager => 2,
        ResponsibleType::Group => 3,
    };
    Ok(ResponsibleEntity {
        id: demo_id(id_kind, n as u128),
        name: EntityName::parse(&format!("{first} {last}"))?,
        responsible_type: kind,
        email_address: Some(EmailAddress::parse(&format!(
            "{}.{}@housing.example.org",
            first.to_lowercase(),
            last.to_lowercase()
        ))?),
    })
}

fn group(n: usize, name: &str) -> Result<ResponsibleEntity, String> {
    Ok(ResponsibleEntity {
        id: demo_id(3, n as u128),
        name: EntityName::parse(name)?,
        responsible_type: ResponsibleType::Group,
        email_address: Some(EmailAddress::parse(&format!(
            "income.team{}@housing.example.org",
            n + 1
        ))?),
    })
}

fn patch(
    id: Uuid,
    parent: Option<Uuid>,
    name: &str,
    kind: PatchType,
    entities: Vec<ResponsibleEntity>,
) -> Result<NewPatch, String> {
    Ok(NewPatch {
        id: Some(id),
        content: PatchContent {
            parent_id: parent,
            name: PatchName::parse(name)?,
            patch_type: kind,
            domain: DomainCode::parse("MMH")?,
            responsible_entities: entities,
        },
    })
}

/// The demo data: patches in creation order (parents first) and property assignments.
pub struct Dataset {
    /// Patches and areas, parents before children.
    pub patches: Vec<NewPatch>,
    /// Each property and the patch it belongs to.
    pub properties: Vec<(PropertyRef, Uuid)>,
}

/// Builds the demo dataset.
pub fn dataset() -> Result<Dataset, String> {
    let mut patches = vec![patch(ROOT_ID, None, "Hackney", PatchType::Area, vec![])?];
    let groups = [
        group(0, "Income Collection Team North")?,
        group(1, "Income Collection Team South")?,
    ];
    let mut patch_ids = Vec::new();
    let mut officer = 0;
    for (a, (area, code)) in AREAS.iter().enumerate() {
        let area_id = demo_id(10, a as u128);
        let manager = person(ResponsibleType::HousingAreaManager, a + 3)?;
        patches.push(patch(
            area_id,
            Some(ROOT_ID),
            &format!("{area} Area"),
            PatchType::Area,
            vec![manager],
        )?);
        for p in 1..=8 {
            let mut entities = vec![person(ResponsibleType::HousingOfficer, officer)?];
            officer += 1;
            // Every third patch is shared by two officers; each has its income team.
            if p % 3 == 0 {
                entities.push(person(ResponsibleType::HousingOfficer, officer)?);
                officer += 1;
            }
            entities.push(groups[a % 2].clone());
            let id = demo_id(20, (a * 8 + p) as u128);
            patches.push(patch(
                id,
                Some(area_id),
                &format!("{code}{p}"),
                PatchType::Patch,
                entities,
            )?);
            patch_ids.push(id);
        }
    }
    let properties = (0..200)
        .map(|i| {
            Ok((
                PropertyRef::parse(&format!("1000{:08}", 21_000_000 + i * 37))?,
                patch_ids[i % patch_ids.len()],
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Dataset {
        patches,
        properties,
    })
}

/// Loads the demo dataset in one transaction if the database holds no patch.
pub async fn load_if_empty(store: &PatchStore) -> Result<bool, PatchError> {
    if !store.is_empty().await? {
        return Ok(false);
    }
    let Dataset {
        patches,
        properties,
    } = dataset().map_err(|e| PatchError::Store(crate::store::StoreError::Decode(e)))?;
    let actor = Actor {
        id: "demo-data".into(),
    };
    let at = timestamp_now();
    let mut tx = store.begin_write().await?;
    for p in &patches {
        create_in(&mut *tx, p, &actor, at).await?;
    }
    for (property, patch_id) in &properties {
        assign_property_in(&mut *tx, property, *patch_id, &actor, at).await?;
    }
    tx.commit().await?;
    tracing::info!(
        patches = patches.len(),
        properties = properties.len(),
        "demo data loaded"
    );
    Ok(true)
}
