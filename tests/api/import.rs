//! `patches import`: validation report, dry run, all-or-nothing apply, idempotent re-run.

use patches::{
    domain::Actor,
    import::{ImportSummary, apply, validate},
    store::{self, patches::PatchStore},
};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{id_of, patch_body, spawn_app};

const HEADER: &str =
    "patchId,parentId,patchName,patchType,domain,entityId,entityName,entityType,entityEmail";

async fn store_of(app: &crate::helpers::TestApp) -> PatchStore {
    PatchStore::new(store::connect(&app.database_url).await.unwrap())
}

/// Validates and applies one file, as `patches import FILE --apply` does.
async fn import(store: &PatchStore, file: &str) -> ImportSummary {
    let plan = validate(file.as_bytes(), store).await.unwrap();
    apply(&plan, store, &actor(), |_| {}).await.unwrap()
}

fn actor() -> Actor {
    Actor {
        id: "import:test".into(),
    }
}

#[tokio::test]
async fn a_good_file_validates_then_applies_parents_first_in_one_go() {
    let app = spawn_app().await;
    let existing = id_of(&app.create(&patch_body("Borough", "area", None)).await);
    let (area, p1, p2) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (officer, group) = (Uuid::new_v4(), Uuid::new_v4());
    // Children before their parent in the file: the import orders them.
    let file = format!(
        "{HEADER}\n\
         {p1},{area},\"CP1, North\",patch,MMH,{officer},Olu Officer,HousingOfficer,olu@example.org\n\
         {p1},{area},\"CP1, North\",patch,MMH,{group},Income Team,Group,\n\
         {p2},{area},CP2,patch,MMH,,,,\n\
         {area},{existing},North Area,area,MMH,,,,\n"
    );
    let store = store_of(&app).await;
    let plan = validate(file.as_bytes(), &store).await.unwrap();
    assert_eq!((plan.rows, plan.patches.len()), (4, 3));
    assert_eq!(plan.patches[0].0, area, "parents first");
    assert_eq!(
        app.get(&format!("/api/v1/patch/{area}")).await.status(),
        StatusCode::NOT_FOUND,
        "validation writes nothing"
    );

    let summary = apply(&plan, &store, &actor(), |_| {}).await.unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            created: 3,
            updated: 0,
            unchanged: 0
        }
    );
    let patch: Value = app
        .get(&format!("/api/v1/patch/{p1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(patch["name"], "CP1, North");
    let ids: Vec<&str> = patch["responsibleEntities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [officer.to_string(), group.to_string()]);
    let history: Value = app
        .get(&format!("/api/v1/patch/{p1}/history"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["results"][0]["changedBy"], "import:test");
}

#[tokio::test]
async fn every_kind_of_bad_row_is_reported_with_line_column_and_reason() {
    let app = spawn_app().await;
    let (a, b, c, d) = (
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
        Uuid::new_v4(),
    );
    let (e, f) = (Uuid::new_v4(), Uuid::new_v4());
    let file = format!(
        "{HEADER}\n\
         not-a-guid,,CP1,patch,MMH,,,,\n\
         {a},,,street,M M H,,,,\n\
         {b},,CP2,patch,MMH,{e},,Boss,nope\n\
         {f},,CP5,patch,MMH,,,,\n\
         {f},,CP5 renamed,patch,MMH,,,,\n\
         {c},{},CP3,patch,MMH,,,,\n\
         {d},{d},CP4,patch,MMH,,,,\n\
         {a},,too,few\n",
        Uuid::new_v4()
    );
    let store = store_of(&app).await;
    let problems = validate(file.as_bytes(), &store).await.unwrap_err();
    let found: Vec<(u64, &str)> = problems
        .iter()
        .map(|p| (p.line, p.column.as_str()))
        .collect();
    for expected in [
        (2, "patchId"),
        (3, "patchName"),
        (3, "patchType"),
        (3, "domain"),
        (4, "entityName"),
        (4, "entityType"),
        (4, "entityEmail"),
        (6, "-"),
        (7, "parentId"),
        (8, "parentId"),
        (9, "-"),
    ] {
        assert!(
            found.contains(&expected),
            "no problem reported at {expected:?}: {problems:#?}"
        );
    }
    assert!(problems.iter().all(|p| !p.reason.is_empty()));
    let bad_header = validate("id,name\n".as_bytes(), &store).await.unwrap_err();
    assert_eq!(
        (bad_header[0].line, bad_header[0].column.as_str()),
        (1, "-")
    );
}

#[tokio::test]
async fn re_running_an_import_changes_nothing_and_a_changed_row_updates_once() {
    let app = spawn_app().await;
    let (root, p1) = (Uuid::new_v4(), Uuid::new_v4());
    let officer = Uuid::new_v4();
    let file = |name: &str| {
        format!(
            "{HEADER}\n{root},,Borough,area,MMH,,,,\n{p1},{root},{name},patch,MMH,{officer},Olu Officer,HousingOfficer,\n"
        )
    };
    let store = store_of(&app).await;
    import(&store, &file("CP1")).await;
    let again = import(&store, &file("CP1")).await;
    assert_eq!(
        again,
        ImportSummary {
            created: 0,
            updated: 0,
            unchanged: 2
        }
    );
    let patch: Value = app
        .get(&format!("/api/v1/patch/{p1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        patch["versionNumber"], 1,
        "an unchanged re-run writes nothing"
    );

    let changed = import(&store, &file("CP1 renamed")).await;
    assert_eq!(
        changed,
        ImportSummary {
            created: 0,
            updated: 1,
            unchanged: 1
        }
    );
    let patch: Value = app
        .get(&format!("/api/v1/patch/{p1}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (patch["versionNumber"].as_i64(), patch["name"].as_str()),
        (Some(2), Some("CP1 renamed"))
    );
    let history: Value = app
        .get(&format!("/api/v1/patch/{p1}/history"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(history["results"][0]["changeType"], "Imported");
}

#[tokio::test]
async fn a_failure_half_way_leaves_the_database_unchanged() {
    let app = spawn_app().await;
    let parent = id_of(&app.create(&patch_body("Borough", "area", None)).await);
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    let late = Uuid::new_v4();
    let file = format!(
        "{HEADER}\n{first},,Standalone,area,MMH,,,,\n{second},{parent},Child,patch,MMH,,,,\n{late},,Later,patch,MMH,,,,\n"
    );
    let store = store_of(&app).await;
    let plan = validate(file.as_bytes(), &store).await.unwrap();
    // The parent disappears between validation and apply: the child's insert fails.
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/v1/patch/{parent}"),
            None,
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(apply(&plan, &store, &actor(), |_| {}).await.is_err());
    for id in [first, second, late] {
        assert_eq!(
            app.get(&format!("/api/v1/patch/{id}")).await.status(),
            StatusCode::NOT_FOUND,
            "{id} was written"
        );
    }
}
