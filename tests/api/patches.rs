//! The CRUD rows of the contract, one test per row and per error column.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{assert_problem, id_of, officer, patch_body, spawn_app};

// ---- POST /patch -----------------------------------------------------------------

#[tokio::test]
async fn create_patch_returns_201_with_location_etag_and_camel_case_body() {
    let app = spawn_app().await;
    let root = id_of(&app.create(&patch_body("Borough", "area", None)).await);
    let body = json!({
        "name": "CP7", "patchType": "patch", "domain": "MMH", "parentId": root,
        "responsibleEntities": [officer(Uuid::new_v4(), "Jane Doe")]
    });
    let resp = app.post("/api/v1/patch", &body).await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let created: Value = resp.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/patch/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["name"], "CP7");
    assert_eq!(created["patchType"], "patch");
    assert_eq!(created["domain"], "MMH");
    assert_eq!(created["parentId"], root.to_string());
    assert_eq!(created["versionNumber"], 1);
    assert_eq!(
        created["responsibleEntities"][0]["responsibleType"],
        "HousingOfficer"
    );
    assert_eq!(
        created["responsibleEntities"][0]["contactDetails"]["emailAddress"],
        "jane.doe@example.org"
    );
    let created_at = created["createdAt"].as_str().unwrap();
    assert!(
        created_at.ends_with('Z') && created_at.len() == 20,
        "{created_at}"
    );
}

#[tokio::test]
async fn create_patch_uses_the_id_the_client_supplies() {
    let app = spawn_app().await;
    let id = Uuid::new_v4();
    let mut body = patch_body("Borough", "area", None);
    body["id"] = json!(id);
    assert_eq!(id_of(&app.create(&body).await), id);
    assert_eq!(
        app.get(&format!("/api/v1/patch/{id}")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn create_patch_accepts_type_as_an_alias() {
    let app = spawn_app().await;
    let body = json!({
        "name": "Leasehold", "type": "Area", "domain": "MA",
        "responsibleEntities": [{ "id": Uuid::new_v4(), "name": "Arrears Team", "type": "group" }]
    });
    let created = app.create(&body).await;
    assert_eq!(created["patchType"], "area");
    assert_eq!(
        created["responsibleEntities"][0]["responsibleType"],
        "Group"
    );
    assert!(created["responsibleEntities"][0]["contactDetails"]["emailAddress"].is_null());
}

#[tokio::test]
async fn create_patch_with_invalid_fields_returns_400_naming_each_field() {
    let app = spawn_app().await;
    let body = json!({
        "id": "not-a-guid", "name": " ", "patchType": "street", "domain": "M M H", "parentId": "x",
        "responsibleEntities": [{ "id": "y", "responsibleType": "Boss", "contactDetails": { "emailAddress": "nope" } }]
    });
    let problem = assert_problem(
        app.post("/api/v1/patch", &body).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    let errors = problem["errors"].as_object().expect("errors by field");
    for field in [
        "id",
        "name",
        "patchType",
        "domain",
        "parentId",
        "responsibleEntities[0].id",
        "responsibleEntities[0].name",
        "responsibleEntities[0].responsibleType",
        "responsibleEntities[0].contactDetails.emailAddress",
    ] {
        assert!(
            errors.contains_key(field),
            "no error for {field}: {problem}"
        );
    }
}

#[tokio::test]
async fn create_patch_with_missing_fields_returns_400() {
    let app = spawn_app().await;
    let problem = assert_problem(
        app.post("/api/v1/patch", &json!({})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    for field in ["name", "patchType", "domain"] {
        assert_eq!(problem["errors"][field][0], "is required");
    }
}

#[tokio::test]
async fn create_patch_with_conflicting_type_and_alias_returns_400() {
    let app = spawn_app().await;
    let body = json!({ "name": "A", "patchType": "patch", "type": "area", "domain": "MMH" });
    let problem = assert_problem(
        app.post("/api/v1/patch", &body).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(problem["errors"]["patchType"].is_array());
}

#[tokio::test]
async fn create_patch_with_duplicate_responsible_entities_returns_400() {
    let app = spawn_app().await;
    let person = Uuid::new_v4();
    let mut body = patch_body("CP1", "patch", None);
    body["responsibleEntities"] = json!([officer(person, "A One"), officer(person, "A Two")]);
    let problem = assert_problem(
        app.post("/api/v1/patch", &body).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(
        problem["errors"]["responsibleEntities[1].id"].is_array(),
        "{problem}"
    );
}

#[tokio::test]
async fn create_patch_with_malformed_json_returns_400_problem() {
    let app = spawn_app().await;
    let resp = app
        .client
        .post(app.url("/api/v1/patch"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn create_patch_with_existing_id_returns_409() {
    let app = spawn_app().await;
    let mut body = patch_body("Borough", "area", None);
    body["id"] = json!(Uuid::new_v4());
    app.create(&body).await;
    assert_problem(app.post("/api/v1/patch", &body).await, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn create_patch_with_unknown_parent_returns_422() {
    let app = spawn_app().await;
    let body = patch_body("CP7", "patch", Some(Uuid::new_v4()));
    assert_problem(
        app.post("/api/v1/patch", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn create_patch_stores_unicode_names_exactly() {
    let app = spawn_app().await;
    let name = "Łódź – Ærø “Núñez” 東京";
    let created = app.create(&patch_body(name, "patch", None)).await;
    let fetched: Value = app
        .get(&format!("/api/v1/patch/{}", id_of(&created)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fetched["name"], name);
}

// ---- GET /patch/{id} ---------------------------------------------------------------

#[tokio::test]
async fn get_patch_returns_200_with_etag_and_entities_in_order() {
    let app = spawn_app().await;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let mut body = patch_body("CP7", "patch", None);
    body["responsibleEntities"] = json!([officer(a, "Zoe Zed"), officer(b, "Al Able")]);
    let id = id_of(&app.create(&body).await);
    let resp = app.get(&format!("/api/v1/patch/{id}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["etag"], "\"1\"");
    let patch: Value = resp.json().await.unwrap();
    assert_eq!(patch["responsibleEntities"][0]["id"], a.to_string());
    assert_eq!(patch["responsibleEntities"][1]["id"], b.to_string());
    assert!(patch["parentId"].is_null());
}

#[tokio::test]
async fn get_patch_with_non_guid_id_returns_400() {
    let app = spawn_app().await;
    let problem = assert_problem(
        app.get("/api/v1/patch/not-a-guid").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(problem["errors"]["id"].is_array());
}

#[tokio::test]
async fn get_unknown_patch_returns_404() {
    let app = spawn_app().await;
    assert_problem(
        app.get(&format!("/api/v1/patch/{}", Uuid::new_v4())).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

// ---- GET /patch?parentId= / ?responsibleEntityId= / all ------------------------------

#[tokio::test]
async fn list_children_returns_the_children_ordered_by_name() {
    let app = spawn_app().await;
    let root = id_of(&app.create(&patch_body("Borough", "area", None)).await);
    for name in ["South", "North", "East"] {
        app.create(&patch_body(name, "area", Some(root))).await;
    }
    let children: Vec<Value> = app
        .get(&format!("/api/v1/patch?parentId={root}"))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = children
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["East", "North", "South"]);
}

#[tokio::test]
async fn list_children_of_a_leaf_or_unknown_id_returns_an_empty_array() {
    let app = spawn_app().await;
    let leaf = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    for id in [leaf, Uuid::new_v4()] {
        let resp = app.get(&format!("/api/v1/patch?parentId={id}")).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.json::<Value>().await.unwrap(), json!([]));
    }
}

#[tokio::test]
async fn list_with_bad_or_missing_filter_returns_400() {
    let app = spawn_app().await;
    assert_problem(
        app.get("/api/v1/patch?parentId=nope").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        app.get("/api/v1/patch?responsibleEntityId=nope").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(app.get("/api/v1/patch").await, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn list_by_responsible_entity_returns_their_patches_with_all_entities() {
    let app = spawn_app().await;
    let (jane, other) = (Uuid::new_v4(), Uuid::new_v4());
    for (name, people) in [
        ("CP1", vec![jane]),
        ("CP2", vec![other, jane]),
        ("CP3", vec![other]),
    ] {
        let mut body = patch_body(name, "patch", None);
        body["responsibleEntities"] =
            Value::Array(people.iter().map(|p| officer(*p, "Some One")).collect());
        app.create(&body).await;
    }
    let list: Vec<Value> = app
        .get(&format!("/api/v1/patch?responsibleEntityId={jane}"))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["CP1", "CP2"]);
    assert_eq!(list[1]["responsibleEntities"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn list_all_returns_every_patch() {
    let app = spawn_app().await;
    let (root, area, patch) = app.tree().await;
    let all: Vec<Value> = app.get("/api/v1/patch/all").await.json().await.unwrap();
    let ids: Vec<Uuid> = all.iter().map(id_of).collect();
    for id in [root, area, patch] {
        assert!(ids.contains(&id));
    }
}

// ---- PUT /patch/{id} -----------------------------------------------------------------

#[tokio::test]
async fn update_patch_changes_fields_and_returns_the_new_version() {
    let app = spawn_app().await;
    let (root, area, patch) = app.tree().await;
    let body = json!({ "name": "CP7 North", "type": "patch", "domain": "MA", "parentId": root });
    let resp = app
        .send(
            Method::PUT,
            &format!("/api/v1/patch/{patch}"),
            Some("\"1\""),
            Some(&body),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["etag"], "\"2\"");
    let updated: Value = resp.json().await.unwrap();
    assert_eq!(updated["name"], "CP7 North");
    assert_eq!(updated["domain"], "MA");
    assert_eq!(updated["parentId"], root.to_string());
    assert_eq!(updated["versionNumber"], 2);
    let children: Vec<Value> = app
        .get(&format!("/api/v1/patch?parentId={area}"))
        .await
        .json()
        .await
        .unwrap();
    assert!(children.is_empty());
}

#[tokio::test]
async fn update_patch_accepts_every_if_match_form() {
    let app = spawn_app().await;
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    let body = patch_body("CP1", "patch", None);
    for (if_match, next) in [("1", 2), ("W/\"2\"", 3), ("*", 4), ("\"4\"", 5)] {
        let resp = app
            .send(
                Method::PUT,
                &format!("/api/v1/patch/{id}"),
                Some(if_match),
                Some(&body),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK, "If-Match {if_match}");
        assert_eq!(resp.headers()["etag"], format!("\"{next}\""));
    }
}

#[tokio::test]
async fn update_patch_with_stale_if_match_returns_409_with_the_current_version() {
    let app = spawn_app().await;
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    let body = patch_body("CP1b", "patch", None);
    app.send(
        Method::PUT,
        &format!("/api/v1/patch/{id}"),
        Some("\"1\""),
        Some(&body),
    )
    .await;
    let resp = app
        .send(
            Method::PUT,
            &format!("/api/v1/patch/{id}"),
            Some("\"1\""),
            Some(&body),
        )
        .await;
    let problem = assert_problem(resp, StatusCode::CONFLICT).await;
    assert_eq!(problem["currentVersion"], 2);
}

#[tokio::test]
async fn update_patch_with_malformed_if_match_returns_400() {
    let app = spawn_app().await;
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    let resp = app
        .send(
            Method::PUT,
            &format!("/api/v1/patch/{id}"),
            Some("banana"),
            Some(&patch_body("CP1", "patch", None)),
        )
        .await;
    let problem = assert_problem(resp, StatusCode::BAD_REQUEST).await;
    assert!(problem["errors"]["If-Match"].is_array());
}

#[tokio::test]
async fn update_patch_with_invalid_body_returns_400() {
    let app = spawn_app().await;
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    let body = json!({ "name": "", "patchType": "x" });
    assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/v1/patch/{id}"),
            None,
            Some(&body),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn update_unknown_patch_returns_404() {
    let app = spawn_app().await;
    let resp = app
        .send(
            Method::PUT,
            &format!("/api/v1/patch/{}", Uuid::new_v4()),
            None,
            Some(&patch_body("CP1", "patch", None)),
        )
        .await;
    assert_problem(resp, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn update_patch_making_a_cycle_returns_422_and_changes_nothing() {
    let app = spawn_app().await;
    let (root, _area, patch) = app.tree().await;
    let body = patch_body("Borough", "area", Some(patch));
    let resp = app
        .send(
            Method::PUT,
            &format!("/api/v1/patch/{root}"),
            None,
            Some(&body),
        )
        .await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let self_parent = patch_body("Borough", "area", Some(root));
    let resp = app
        .send(
            Method::PUT,
            &format!("/api/v1/patch/{root}"),
            None,
            Some(&self_parent),
        )
        .await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fetched: Value = app
        .get(&format!("/api/v1/patch/{root}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        fetched["versionNumber"], 1,
        "a refused write must not bump the version"
    );
    assert!(fetched["parentId"].is_null());
}

#[tokio::test]
async fn update_patch_with_unknown_parent_returns_422() {
    let app = spawn_app().await;
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    let body = patch_body("CP1", "patch", Some(Uuid::new_v4()));
    assert_problem(
        app.send(
            Method::PUT,
            &format!("/api/v1/patch/{id}"),
            None,
            Some(&body),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

// ---- DELETE /patch/{id} --------------------------------------------------------------

#[tokio::test]
async fn delete_leaf_patch_returns_204_then_404() {
    let app = spawn_app().await;
    let (_root, _area, patch) = app.tree().await;
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/v1/patch/{patch}"),
            Some("\"1\""),
            None,
        )
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get(&format!("/api/v1/patch/{patch}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn delete_patch_with_children_returns_409() {
    let app = spawn_app().await;
    let (_root, area, _patch) = app.tree().await;
    assert_problem(
        app.send(Method::DELETE, &format!("/api/v1/patch/{area}"), None, None)
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        app.get(&format!("/api/v1/patch/{area}")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn delete_patch_with_properties_returns_409() {
    let app = spawn_app().await;
    let patch = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    let resp = app
        .send(
            Method::PUT,
            "/api/v1/properties/100021/patch",
            None,
            Some(&json!({ "patchId": patch })),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_problem(
        app.send(
            Method::DELETE,
            &format!("/api/v1/patch/{patch}"),
            None,
            None,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
}

#[tokio::test]
async fn delete_patch_with_stale_version_returns_409() {
    let app = spawn_app().await;
    let id = id_of(&app.create(&patch_body("CP1", "patch", None)).await);
    let problem = assert_problem(
        app.send(
            Method::DELETE,
            &format!("/api/v1/patch/{id}"),
            Some("\"7\""),
            None,
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(problem["currentVersion"], 1);
}

#[tokio::test]
async fn delete_unknown_patch_returns_404() {
    let app = spawn_app().await;
    assert_problem(
        app.send(
            Method::DELETE,
            &format!("/api/v1/patch/{}", Uuid::new_v4()),
            None,
            None,
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
