//! Property assignment and "who is responsible for this property?".

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_problem, id_of, officer, patch_body, spawn_app};

#[tokio::test]
async fn assign_property_returns_200_and_moves_on_reassignment() {
    let app = spawn_app().await;
    let (_root, area, patch) = app.tree().await;
    let other = id_of(&app.create(&patch_body("CP8", "patch", Some(area))).await);
    let resp = app
        .send(
            Method::PUT,
            "/api/v1/properties/100021234567/patch",
            None,
            Some(&json!({ "patchId": patch })),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["propertyRef"], "100021234567");
    assert_eq!(body["patchId"], patch.to_string());
    assert!(body["assignedAt"].as_str().unwrap().ends_with('Z'));

    let resp = app
        .send(
            Method::PUT,
            "/api/v1/properties/100021234567/patch",
            None,
            Some(&json!({ "patchId": other })),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let r: Value = app
        .get("/api/v1/properties/100021234567/responsibility")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["patch"]["id"], other.to_string());

    let moved_out: Value = app
        .get(&format!("/api/v1/patch/{patch}/history"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved_out["results"][0]["changeType"], "PropertyUnassigned");
    let moved_in: Value = app
        .get(&format!("/api/v1/patch/{other}/history"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved_in["results"][0]["changeType"], "PropertyAssigned");
    assert_eq!(
        moved_in["results"][0]["before"]["patchId"],
        patch.to_string()
    );
}

#[tokio::test]
async fn assign_property_to_unknown_patch_returns_404() {
    let app = spawn_app().await;
    let resp = app
        .send(
            Method::PUT,
            "/api/v1/properties/100021/patch",
            None,
            Some(&json!({ "patchId": Uuid::new_v4() })),
        )
        .await;
    assert_problem(resp, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn assign_property_with_bad_input_returns_400() {
    let app = spawn_app().await;
    let patch = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    for (path, body) in [
        (
            "/api/v1/properties/100021/patch",
            json!({ "patchId": "nope" }),
        ),
        ("/api/v1/properties/100021/patch", json!({})),
        (
            "/api/v1/properties/bad%20ref!/patch",
            json!({ "patchId": patch }),
        ),
        (
            &*format!("/api/v1/properties/{}/patch", "9".repeat(51)),
            json!({ "patchId": patch }),
        ),
    ] {
        assert_problem(
            app.send(Method::PUT, path, None, Some(&body)).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
}

#[tokio::test]
async fn responsibility_walks_from_the_patch_up_to_the_root() {
    let app = spawn_app().await;
    let (manager, officer_id, group) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let root = id_of(&app.create(&patch_body("Borough", "area", None)).await);
    let mut area_body = patch_body("North Area", "area", Some(root));
    area_body["responsibleEntities"] =
        json!([{ "id": manager, "name": "Mo Manager", "responsibleType": "HousingAreaManager" }]);
    let area = id_of(&app.create(&area_body).await);
    let mut patch_body_json = patch_body("CP7", "patch", Some(area));
    patch_body_json["responsibleEntities"] = json!([officer(officer_id, "Olu Officer"), { "id": group, "name": "Income Team", "type": "Group" }]);
    let patch = id_of(&app.create(&patch_body_json).await);
    app.send(
        Method::PUT,
        "/api/v1/properties/ASSET-42/patch",
        None,
        Some(&json!({ "patchId": patch })),
    )
    .await;

    let resp = app.get("/api/v1/properties/ASSET-42/responsibility").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["propertyRef"], "ASSET-42");
    assert_eq!(r["patch"]["id"], patch.to_string());
    let areas: Vec<Uuid> = r["areas"].as_array().unwrap().iter().map(id_of).collect();
    assert_eq!(areas, [area, root]);
    let entries = r["responsibleEntities"].as_array().unwrap();
    let seen: Vec<(String, i64)> = entries
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_string(),
                e["level"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (officer_id.to_string(), 0),
            (group.to_string(), 0),
            (manager.to_string(), 1)
        ]
    );
    assert_eq!(entries[2]["patchName"], "North Area");
    assert_eq!(entries[2]["patchType"], "area");
}

#[tokio::test]
async fn responsibility_of_an_unassigned_property_returns_404() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/api/v1/properties/100099/responsibility").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get("/api/v1/properties/bad!ref/responsibility").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}
