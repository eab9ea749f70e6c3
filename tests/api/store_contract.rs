//! One contract suite for the store, run against SQLite always and against SQL Server
//! when `PATCHES_TEST_MSSQL` holds a connection string. Without it, the SQL Server
//! test is compiled as ignored with that reason, so the test output says so plainly.

use chrono::Utc;
use patches::{
    domain::{
        Actor, DomainCode, EmailAddress, EntityName, ExpectedVersion, PatchContent, PatchName,
        PatchType, PatchUpdate, PropertyRef, ResponsibleEntity, ResponsibleType,
    },
    store::{
        migrate,
        patches::{EntityChange, NewPatch, PatchError, PatchStore},
    },
};
use uuid::Uuid;

use crate::helpers::{fresh_database, fresh_mssql_database, mssql_connection_string};

fn entity(name: &str, kind: ResponsibleType, email: Option<&str>) -> ResponsibleEntity {
    ResponsibleEntity {
        id: Uuid::new_v4(),
        name: EntityName::parse(name).unwrap(),
        responsible_type: kind,
        email_address: email.map(|e| EmailAddress::parse(e).unwrap()),
    }
}

fn new_patch(
    name: &str,
    kind: PatchType,
    parent: Option<Uuid>,
    entities: Vec<ResponsibleEntity>,
) -> NewPatch {
    NewPatch {
        id: Some(Uuid::new_v4()),
        content: PatchContent {
            parent_id: parent,
            name: PatchName::parse(name).unwrap(),
            patch_type: kind,
            domain: DomainCode::parse("MMH").unwrap(),
            responsible_entities: entities,
        },
    }
}

async fn run_contract(url: &str) {
    let db = fresh_database(url).await;
    assert!(
        migrate::run(db.as_ref()).await.unwrap().is_empty(),
        "a second migration run does nothing"
    );
    let store = PatchStore::new(db);
    let actor = Actor {
        id: "contract-suite".into(),
    };

    // Create, read back exactly (unicode, GUIDs, optional e-mail, UTC timestamps).
    let before = Utc::now();
    let manager = entity(
        "Zoë Ångström-Núñez 東",
        ResponsibleType::HousingAreaManager,
        Some("zoe@example.org"),
    );
    let root = store
        .create(
            &new_patch("Borough", PatchType::Area, None, vec![manager.clone()]),
            &actor,
        )
        .await
        .unwrap();
    let fetched = store.get(root.id).await.unwrap();
    assert_eq!(fetched, root, "what a write returns is what a read returns");
    assert_eq!(fetched.content.responsible_entities, vec![manager.clone()]);
    assert_eq!(fetched.version_number, 1);
    let drift = (fetched.created_at - before).num_seconds().abs();
    assert!(
        drift < 3600,
        "timestamps must round-trip as UTC (drift {drift}s)"
    );

    let group = entity("Income Team", ResponsibleType::Group, None);
    let area = store
        .create(
            &new_patch("North", PatchType::Area, Some(root.id), vec![]),
            &actor,
        )
        .await
        .unwrap();
    let cp2 = store
        .create(
            &new_patch("CP2", PatchType::Patch, Some(area.id), vec![group.clone()]),
            &actor,
        )
        .await
        .unwrap();
    let cp1 = store
        .create(
            &new_patch("CP1", PatchType::Patch, Some(area.id), vec![group.clone()]),
            &actor,
        )
        .await
        .unwrap();

    // Errors map to domain errors, not database errors.
    let duplicate = NewPatch {
        id: Some(cp1.id),
        ..new_patch("X", PatchType::Patch, None, vec![])
    };
    assert!(matches!(
        store.create(&duplicate, &actor).await,
        Err(PatchError::AlreadyExists)
    ));
    let orphan = new_patch("X", PatchType::Patch, Some(Uuid::new_v4()), vec![]);
    assert!(matches!(
        store.create(&orphan, &actor).await,
        Err(PatchError::UnknownParent)
    ));
    assert!(matches!(
        store.get(Uuid::new_v4()).await,
        Err(PatchError::NotFound)
    ));

    // Lookups by parent and by responsible entity.
    let children: Vec<String> = store
        .children(area.id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.content.name.to_string())
        .collect();
    assert_eq!(children, ["CP1", "CP2"]);
    let of_group: Vec<Uuid> = store
        .by_responsible_entity(group.id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(of_group, [cp1.id, cp2.id]);
    assert_eq!(store.all().await.unwrap().len(), 4);

    // Versioned update, stale version, cycles.
    let update = PatchUpdate {
        parent_id: Some(root.id),
        name: PatchName::parse("CP1 moved").unwrap(),
        patch_type: PatchType::Patch,
        domain: DomainCode::parse("MA").unwrap(),
    };
    let moved = store
        .update(cp1.id, ExpectedVersion::Exactly(1), &update, &actor)
        .await
        .unwrap();
    assert_eq!(
        (moved.version_number, moved.content.parent_id),
        (2, Some(root.id))
    );
    assert!(matches!(
        store
            .update(cp1.id, ExpectedVersion::Exactly(1), &update, &actor)
            .await,
        Err(PatchError::VersionMismatch { current: 2 })
    ));
    let cycle = PatchUpdate {
        parent_id: Some(cp2.id),
        name: PatchName::parse("North").unwrap(),
        patch_type: PatchType::Area,
        domain: DomainCode::parse("MMH").unwrap(),
    };
    assert!(matches!(
        store
            .update(area.id, ExpectedVersion::Any, &cycle, &actor)
            .await,
        Err(PatchError::Cycle)
    ));
    assert_eq!(
        store.get(area.id).await.unwrap().version_number,
        1,
        "a refused write is rolled back"
    );

    // Responsible entities: add, update in place, remove, replace.
    let officer = entity(
        "Olu Officer",
        ResponsibleType::HousingOfficer,
        Some("olu@example.org"),
    );
    let add = EntityChange {
        name: Some(officer.name.clone()),
        responsible_type: Some(officer.responsible_type),
        email_address: Some(officer.email_address.clone()),
    };
    let p = store
        .upsert_responsible_entity(
            cp2.id,
            officer.id,
            &add,
            ExpectedVersion::Exactly(1),
            &actor,
        )
        .await
        .unwrap();
    assert_eq!(
        p.content.responsible_entities,
        vec![group.clone(), officer.clone()]
    );
    let rename = EntityChange {
        name: Some(EntityName::parse("Olu Renamed").unwrap()),
        ..EntityChange::default()
    };
    let p = store
        .upsert_responsible_entity(cp2.id, officer.id, &rename, ExpectedVersion::Any, &actor)
        .await
        .unwrap();
    assert_eq!(
        p.content.responsible_entities[1].name.as_str(),
        "Olu Renamed"
    );
    assert_eq!(
        p.content.responsible_entities[1].email_address,
        officer.email_address
    );
    assert_eq!(p.version_number, 3);
    assert!(matches!(
        store
            .remove_responsible_entity(cp2.id, Uuid::new_v4(), ExpectedVersion::Any, &actor)
            .await,
        Err(PatchError::EntityNotFound)
    ));
    assert_eq!(
        store.get(cp2.id).await.unwrap().version_number,
        3,
        "a refused removal is rolled back"
    );
    let p = store
        .remove_responsible_entity(cp2.id, group.id, ExpectedVersion::Exactly(3), &actor)
        .await
        .unwrap();
    assert_eq!(p.content.responsible_entities.len(), 1);
    let team = vec![
        entity("A One", ResponsibleType::HousingOfficer, None),
        group.clone(),
    ];
    let p = store
        .replace_responsible_entities(cp2.id, &team, ExpectedVersion::Exactly(4), &actor)
        .await
        .unwrap();
    assert_eq!(p.content.responsible_entities, team);
    assert_eq!(p.version_number, 5);
    // Positions stay unique after a removal in the middle: the next one goes last.
    let trio = vec![
        entity("B One", ResponsibleType::HousingOfficer, None),
        entity("B Two", ResponsibleType::Group, None),
        entity("B Three", ResponsibleType::HousingOfficer, None),
    ];
    let other = store
        .create(
            &new_patch("CP9", PatchType::Patch, Some(area.id), trio.clone()),
            &actor,
        )
        .await
        .unwrap();
    store
        .remove_responsible_entity(other.id, trio[1].id, ExpectedVersion::Any, &actor)
        .await
        .unwrap();
    let p = store
        .upsert_responsible_entity(
            other.id,
            trio[1].id,
            &EntityChange {
                name: Some(trio[1].name.clone()),
                responsible_type: Some(ResponsibleType::Group),
                email_address: None,
            },
            ExpectedVersion::Any,
            &actor,
        )
        .await
        .unwrap();
    let order: Vec<Uuid> = p
        .content
        .responsible_entities
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(order, [trio[0].id, trio[2].id, trio[1].id]);
    store
        .delete(other.id, ExpectedVersion::Any, &actor)
        .await
        .unwrap();

    // Properties and responsibility up the tree.
    let uprn = PropertyRef::parse("100021234567").unwrap();
    assert!(matches!(
        store.assign_property(&uprn, Uuid::new_v4(), &actor).await,
        Err(PatchError::NotFound)
    ));
    store.assign_property(&uprn, cp2.id, &actor).await.unwrap();
    let r = store.responsibility(&uprn).await.unwrap();
    let chain: Vec<Uuid> = r.chain.iter().map(|p| p.id).collect();
    assert_eq!(chain, [cp2.id, area.id, root.id]);
    assert_eq!(r.chain[2].content.responsible_entities, vec![manager]);
    store.assign_property(&uprn, cp1.id, &actor).await.unwrap();
    assert_eq!(
        store.responsibility(&uprn).await.unwrap().chain[0].id,
        cp1.id
    );
    assert!(matches!(
        store
            .responsibility(&PropertyRef::parse("nowhere").unwrap())
            .await,
        Err(PatchError::PropertyNotFound)
    ));

    // Deletes: refused with dependents, history kept after.
    assert!(matches!(
        store.delete(area.id, ExpectedVersion::Any, &actor).await,
        Err(PatchError::HasDependents { children: 1, .. })
    ));
    assert!(matches!(
        store.delete(cp1.id, ExpectedVersion::Any, &actor).await,
        Err(PatchError::HasDependents { properties: 1, .. })
    ));
    store
        .delete(cp2.id, ExpectedVersion::Exactly(5), &actor)
        .await
        .unwrap();
    assert!(matches!(store.get(cp2.id).await, Err(PatchError::NotFound)));

    // History: newest first, keyset pages, actor recorded.
    let page1 = store.history(cp2.id, None, 3).await.unwrap();
    let kinds: Vec<&str> = page1.iter().map(|c| c.change_type.as_str()).collect();
    assert_eq!(kinds, ["Deleted", "PropertyUnassigned", "PropertyAssigned"]);
    assert_eq!(page1[0].changed_by, "contract-suite");
    let page2 = store
        .history(cp2.id, Some(page1[2].change_id), 100)
        .await
        .unwrap();
    let versions: Vec<i64> = page2.iter().map(|c| c.version_number).collect();
    assert_eq!(versions, [5, 4, 3, 2, 1]);
    assert!(matches!(
        store.history(Uuid::new_v4(), None, 10).await,
        Err(PatchError::NotFound)
    ));
    store.ready().await.unwrap();
}

#[tokio::test]
async fn store_contract_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    run_contract(&format!("sqlite://{}/contract.db", dir.path().display())).await;
}

#[tokio::test]
#[cfg_attr(
    not(mssql_tests),
    ignore = "PATCHES_TEST_MSSQL is not set: the SQL Server store contract suite is SKIPPED"
)]
async fn store_contract_mssql() {
    let ado = mssql_connection_string().expect("PATCHES_TEST_MSSQL must be set for this test");
    run_contract(&fresh_mssql_database(&ado).await).await;
}
