//! `GET /patch/{id}/history`: who changed what, when, newest first, paged.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_problem, id_of, officer, patch_body, spawn_app};

#[tokio::test]
async fn history_lists_every_change_newest_first_with_before_and_after() {
    let app = spawn_app().await;
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    let re = Uuid::new_v4();
    app.send(
        Method::PUT,
        &format!("/api/v1/patch/{id}"),
        None,
        Some(&patch_body("CP1 renamed", "patch", None)),
    )
    .await;
    app.send(
        Method::PATCH,
        &format!("/api/v1/patch/{id}/responsible-entity/{re}"),
        None,
        Some(&json!({ "name": "A B", "type": "HousingOfficer" })),
    )
    .await;
    app.send(
        Method::PUT,
        &format!("/api/v1/patch/{id}/responsible-entities"),
        None,
        Some(&json!([officer(Uuid::new_v4(), "C D")])),
    )
    .await;
    app.send(
        Method::DELETE,
        &format!("/api/v1/patch/{id}/responsible-entity/{re}"),
        None,
        None,
    )
    .await;

    let resp = app.get(&format!("/api/v1/patch/{id}/history")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page: Value = resp.json().await.unwrap();
    let results = page["results"].as_array().unwrap();
    let kinds: Vec<&str> = results
        .iter()
        .map(|r| r["changeType"].as_str().unwrap())
        .collect();
    // The removal of an entity no longer on the patch was refused (404) and left no trace.
    assert_eq!(
        kinds,
        [
            "ResponsibleEntitiesReplaced",
            "ResponsibleEntityAdded",
            "Updated",
            "Created"
        ]
    );
    let versions: Vec<i64> = results
        .iter()
        .map(|r| r["versionNumber"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [4, 3, 2, 1]);
    let created = &results[3];
    assert!(created["before"].is_null());
    assert_eq!(created["after"]["name"], "CP1");
    assert_eq!(created["changedBy"], "anonymous");
    assert!(created["changedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(results[2]["before"]["name"], "CP1");
    assert_eq!(results[2]["after"]["name"], "CP1 renamed");
    assert!(page["nextPageToken"].is_null());
}

#[tokio::test]
async fn history_pages_by_next_page_token_reading_each_change_once() {
    let app = spawn_app().await;
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    for i in 0..6 {
        app.send(
            Method::PUT,
            &format!("/api/v1/patch/{id}"),
            None,
            Some(&patch_body(&format!("CP1-{i}"), "patch", None)),
        )
        .await;
    }
    let mut versions = Vec::new();
    let mut path = format!("/api/v1/patch/{id}/history?pageSize=3");
    loop {
        let page: Value = app.get(&path).await.json().await.unwrap();
        versions.extend(
            page["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["versionNumber"].as_i64().unwrap()),
        );
        match page["nextPageToken"].as_str() {
            Some(token) => {
                path = format!("/api/v1/patch/{id}/history?pageSize=3&pageToken={token}")
            }
            None => break,
        }
    }
    assert_eq!(versions, [7, 6, 5, 4, 3, 2, 1]);
}

#[tokio::test]
async fn history_outlives_a_deleted_patch() {
    let app = spawn_app().await;
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    app.send(Method::DELETE, &format!("/api/v1/patch/{id}"), None, None)
        .await;
    let page: Value = app
        .get(&format!("/api/v1/patch/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["results"][0]["changeType"], "Deleted");
    assert!(page["results"][0]["after"].is_null());
}

#[tokio::test]
async fn history_of_unknown_patch_returns_404_and_bad_paging_400() {
    let app = spawn_app().await;
    assert_problem(
        app.get(&format!("/api/v1/patch/{}/history", Uuid::new_v4()))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    for q in ["pageSize=0", "pageSize=101", "pageToken=abc", "pageSize=x"] {
        assert_problem(
            app.get(&format!("/api/v1/patch/{id}/history?{q}")).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    assert_problem(
        app.get("/api/v1/patch/nope/history").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}
