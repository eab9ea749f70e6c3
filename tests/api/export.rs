//! `patches export`: the same CSV as the reporting API, from the library function the
//! command runs.

use patches::{export::export, store};

use crate::helpers::spawn_app_with;

#[tokio::test]
async fn export_writes_exactly_the_csv_the_api_serves() {
    let app = spawn_app_with(&[("PATCHES_DEMO_DATA", "true")]).await;
    let db = store::connect(&app.database_url).await.unwrap();
    for (set, filter) in [
        ("PropertyPatches", None),
        ("Patches", Some("patchType eq 'area'")),
        ("PatchChanges", None),
    ] {
        let url = match filter {
            Some(f) => format!(
                "/api/v1/odata/{set}?$format=csv&$filter={}",
                f.replace(' ', "%20")
            ),
            None => format!("/api/v1/odata/{set}?$format=csv"),
        };
        let served = app.get(&url).await.bytes().await.unwrap();
        let mut written = Vec::new();
        let rows = export(db.as_ref(), set, filter, &mut written)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(served.to_vec()).unwrap(),
            "{set}"
        );
        assert!(rows > 0);
    }
}

#[tokio::test]
async fn export_refuses_unknown_sets_and_bad_filters() {
    let app = spawn_app_with(&[]).await;
    let db = store::connect(&app.database_url).await.unwrap();
    let e = export(db.as_ref(), "Nope", None, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Patches"), "{e}");
    let e = export(
        db.as_ref(),
        "Patches",
        Some("patchName eq"),
        &mut Vec::new(),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().starts_with("$filter"), "{e}");
}
