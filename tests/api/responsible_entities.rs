//! Adding, updating, removing and replacing responsible entities, on the current
//! routes and the compatibility routes.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, id_of, officer, patch_body, spawn_app};

async fn patch_with(app: &TestApp, people: &[Uuid]) -> Uuid {
    let mut body = patch_body("CP7", "patch", None);
    body["responsibleEntities"] =
        Value::Array(people.iter().map(|p| officer(*p, "Jane Doe")).collect());
    id_of(&app.create(&body).await)
}

const ROUTES: [&str; 2] = ["responsible-entity", "responsibleEntity"];
const LIST_ROUTES: [&str; 2] = ["responsible-entities", "responsibleEntities"];

#[tokio::test]
async fn add_responsible_entity_returns_200_with_the_new_version() {
    let app = spawn_app().await;
    for route in ROUTES {
        let id = patch_with(&app, &[]).await;
        let re = Uuid::new_v4();
        let body = json!({ "name": "Sam Smith", "responsibleType": "HousingAreaManager",
                           "contactDetails": { "emailAddress": "sam@example.org" } });
        let resp = app
            .send(
                Method::PATCH,
                &format!("/api/v1/patch/{id}/{route}/{re}"),
                Some("\"1\""),
                Some(&body),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "{route}");
        assert_eq!(resp.headers()["etag"], "\"2\"");
        let patch: Value = resp.json().await.unwrap();
        assert_eq!(patch["responsibleEntities"][0]["id"], re.to_string());
        assert_eq!(
            patch["responsibleEntities"][0]["responsibleType"],
            "HousingAreaManager"
        );
        assert_eq!(
            patch["responsibleEntities"][0]["contactDetails"]["emailAddress"],
            "sam@example.org"
        );
    }
}

#[tokio::test]
async fn update_responsible_entity_keeps_position_and_unsent_fields() {
    let app = spawn_app().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let id = patch_with(&app, &[a, b]).await;
    let body = json!({ "name": "Jane Renamed", "type": "Group" });
    let resp = app
        .send(
            Method::PATCH,
            &format!("/api/v1/patch/{id}/responsible-entity/{a}"),
            None,
            Some(&body),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let patch: Value = resp.json().await.unwrap();
    let first = &patch["responsibleEntities"][0];
    assert_eq!(first["id"], a.to_string());
    assert_eq!(first["name"], "Jane Renamed");
    assert_eq!(first["responsibleType"], "Group");
    assert_eq!(
        first["contactDetails"]["emailAddress"],
        "jane.doe@example.org"
    );
    assert_eq!(patch["responsibleEntities"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn add_responsible_entity_without_name_or_type_returns_400() {
    let app = spawn_app().await;
    let id = patch_with(&app, &[]).await;
    let resp = app
        .send(
            Method::PATCH,
            &format!("/api/v1/patch/{id}/responsible-entity/{}", Uuid::new_v4()),
            None,
            Some(&json!({})),
        )
        .await;
    let problem = assert_problem(resp, StatusCode::BAD_REQUEST).await;
    assert!(
        problem["errors"]["name"].is_array() && problem["errors"]["responsibleType"].is_array()
    );
    let after: Value = app
        .get(&format!("/api/v1/patch/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["versionNumber"], 1,
        "a refused write must not bump the version"
    );
}

#[tokio::test]
async fn upsert_responsible_entity_with_bad_ids_or_body_returns_400() {
    let app = spawn_app().await;
    let id = patch_with(&app, &[]).await;
    let body = json!({ "name": "A", "responsibleType": "HousingOfficer" });
    assert_problem(
        app.send(
            Method::PATCH,
            &format!("/api/v1/patch/{id}/responsible-entity/nope"),
            None,
            Some(&body),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        app.send(
            Method::PATCH,
            &format!("/api/v1/patch/nope/responsible-entity/{id}"),
            None,
            Some(&body),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let bad = json!({ "name": "A", "responsibleType": "Boss" });
    assert_problem(
        app.send(
            Method::PATCH,
            &format!("/api/v1/patch/{id}/responsible-entity/{}", Uuid::new_v4()),
            None,
            Some(&bad),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn upsert_responsible_entity_on_unknown_patch_returns_404() {
    let app = spawn_app().await;
    let body = json!({ "name": "A", "responsibleType": "HousingOfficer" });
    for route in ROUTES {
        let path = format!(
            "/api/v1/patch/{}/{route}/{}",
            Uuid::new_v4(),
            Uuid::new_v4()
        );
        assert_problem(
            app.send(Method::PATCH, &path, None, Some(&body)).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}

#[tokio::test]
async fn upsert_responsible_entity_with_stale_version_returns_409() {
    let app = spawn_app().await;
    let id = patch_with(&app, &[]).await;
    let body = json!({ "name": "A", "responsibleType": "HousingOfficer" });
    for route in ROUTES {
        let path = format!("/api/v1/patch/{id}/{route}/{}", Uuid::new_v4());
        assert_problem(
            app.send(Method::PATCH, &path, Some("\"99\""), Some(&body))
                .await,
            StatusCode::CONFLICT,
        )
        .await;
    }
}

#[tokio::test]
async fn remove_responsible_entity_returns_204() {
    let app = spawn_app().await;
    for route in ROUTES {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let id = patch_with(&app, &[a, b]).await;
        let resp = app
            .send(
                Method::DELETE,
                &format!("/api/v1/patch/{id}/{route}/{a}"),
                Some("\"1\""),
                None,
            )
            .await;
        assert_eq!(resp.status(), StatusCode::NO_CONTENT, "{route}");
        let patch: Value = app
            .get(&format!("/api/v1/patch/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(patch["versionNumber"], 2);
        assert_eq!(patch["responsibleEntities"].as_array().unwrap().len(), 1);
        assert_eq!(patch["responsibleEntities"][0]["id"], b.to_string());
    }
}

#[tokio::test]
async fn remove_responsible_entity_not_on_the_patch_returns_404() {
    let app = spawn_app().await;
    let id = patch_with(&app, &[Uuid::new_v4()]).await;
    for route in ROUTES {
        let path = format!("/api/v1/patch/{id}/{route}/{}", Uuid::new_v4());
        let problem = assert_problem(
            app.send(Method::DELETE, &path, None, None).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("responsible entity")
        );
    }
    let patch: Value = app
        .get(&format!("/api/v1/patch/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        patch["versionNumber"], 1,
        "a refused write must not bump the version"
    );
}

#[tokio::test]
async fn remove_responsible_entity_of_unknown_patch_returns_404() {
    let app = spawn_app().await;
    let path = format!(
        "/api/v1/patch/{}/responsible-entity/{}",
        Uuid::new_v4(),
        Uuid::new_v4()
    );
    let problem = assert_problem(
        app.send(Method::DELETE, &path, None, None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("patch"));
}

#[tokio::test]
async fn remove_responsible_entity_with_stale_version_returns_409() {
    let app = spawn_app().await;
    let a = Uuid::new_v4();
    let id = patch_with(&app, &[a]).await;
    let path = format!("/api/v1/patch/{id}/responsible-entity/{a}");
    assert_problem(
        app.send(Method::DELETE, &path, Some("\"2\""), None).await,
        StatusCode::CONFLICT,
    )
    .await;
}

#[tokio::test]
async fn replace_responsible_entities_returns_the_new_list_in_order() {
    let app = spawn_app().await;
    for route in LIST_ROUTES {
        let id = patch_with(&app, &[Uuid::new_v4()]).await;
        let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
        let body = json!([officer(y, "Yan Y"), { "id": x, "name": "Team X", "type": "Group" }]);
        let resp = app
            .send(
                Method::PUT,
                &format!("/api/v1/patch/{id}/{route}"),
                Some("\"1\""),
                Some(&body),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "{route}");
        assert_eq!(resp.headers()["etag"], "\"2\"");
        let patch: Value = resp.json().await.unwrap();
        let ids: Vec<&str> = patch["responsibleEntities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [y.to_string(), x.to_string()]);
    }
}

#[tokio::test]
async fn replace_responsible_entities_with_an_empty_list_clears_them() {
    let app = spawn_app().await;
    let id = patch_with(&app, &[Uuid::new_v4(), Uuid::new_v4()]).await;
    let resp = app
        .send(
            Method::PUT,
            &format!("/api/v1/patch/{id}/responsible-entities"),
            None,
            Some(&json!([])),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let patch: Value = resp.json().await.unwrap();
    assert_eq!(patch["responsibleEntities"], json!([]));
}

#[tokio::test]
async fn replace_responsible_entities_with_invalid_list_returns_400() {
    let app = spawn_app().await;
    let id = patch_with(&app, &[]).await;
    let dup = Uuid::new_v4();
    let body = json!([officer(dup, "A A"), officer(dup, "B B"), { "id": "x" }]);
    let problem = assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/v1/patch/{id}/responsible-entities"),
            None,
            Some(&body),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(problem["errors"]["body[2].id"].is_array(), "{problem}");
    let too_many = Value::Array((0..51).map(|_| officer(Uuid::new_v4(), "Many")).collect());
    assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/v1/patch/{id}/responsible-entities"),
            None,
            Some(&too_many),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn replace_responsible_entities_of_unknown_patch_returns_404() {
    let app = spawn_app().await;
    for route in LIST_ROUTES {
        let path = format!("/api/v1/patch/{}/{route}", Uuid::new_v4());
        assert_problem(
            app.send(Method::PUT, &path, None, Some(&json!([]))).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
}

#[tokio::test]
async fn replace_responsible_entities_with_stale_version_returns_409() {
    let app = spawn_app().await;
    let id = patch_with(&app, &[]).await;
    for route in LIST_ROUTES {
        let path = format!("/api/v1/patch/{id}/{route}");
        assert_problem(
            app.send(Method::PUT, &path, Some("W/\"5\""), Some(&json!([])))
                .await,
            StatusCode::CONFLICT,
        )
        .await;
    }
}
