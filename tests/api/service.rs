//! Service basics: health, OpenAPI, docs, request ids, the SQL catalog, errors for
//! unknown routes, demo data.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_live_and_ready_return_200() {
    let app = spawn_app().await;
    let live: Value = app.get("/health/live").await.json().await.unwrap();
    assert_eq!(live["status"], "ok");
    let resp = app.get("/health/ready").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_a_given_one() {
    let app = spawn_app().await;
    let resp = app.get("/health/live").await;
    let generated = resp.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(generated.len(), 36);
    let resp = app
        .client
        .get(app.url("/api/v1/patch/nope"))
        .header("X-Request-Id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-123");
}

#[tokio::test]
async fn openapi_document_describes_every_operation() {
    let app = spawn_app().await;
    let spec: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    let expected = [
        ("/api/v1/patch", "post"),
        ("/api/v1/patch", "get"),
        ("/api/v1/patch/all", "get"),
        ("/api/v1/patch/{id}", "get"),
        ("/api/v1/patch/{id}", "put"),
        ("/api/v1/patch/{id}", "delete"),
        ("/api/v1/patch/{id}/responsible-entity/{reId}", "patch"),
        ("/api/v1/patch/{id}/responsible-entity/{reId}", "delete"),
        ("/api/v1/patch/{id}/responsible-entities", "put"),
        ("/api/v1/patch/{id}/responsibleEntity/{reId}", "patch"),
        ("/api/v1/patch/{id}/responsibleEntity/{reId}", "delete"),
        ("/api/v1/patch/{id}/responsibleEntities", "put"),
        ("/api/v1/patch/{id}/history", "get"),
        ("/api/v1/properties/{propertyRef}/patch", "put"),
        ("/api/v1/properties/{propertyRef}/responsibility", "get"),
        ("/api/v1/queries", "get"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
    ];
    for (path, method) in expected {
        let op = &paths.get(path).unwrap_or_else(|| panic!("{path} missing"))[method];
        assert!(op["summary"].is_string(), "{method} {path} has no summary");
        assert!(
            op["description"].is_string() || path.starts_with("/health"),
            "{method} {path} has no description"
        );
    }
    let patch_schema = &spec["components"]["schemas"]["PatchResponse"]["properties"];
    for field in [
        "id",
        "parentId",
        "name",
        "patchType",
        "domain",
        "responsibleEntities",
        "versionNumber",
        "createdAt",
        "updatedAt",
    ] {
        assert!(
            patch_schema[field]["description"].is_string(),
            "PatchResponse.{field} undocumented"
        );
    }
}

#[tokio::test]
async fn interactive_docs_are_served() {
    let app = spawn_app().await;
    let resp = app.get("/docs").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("swagger")
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_problem_json() {
    let app = spawn_app().await;
    assert_problem(app.get("/api/v1/nothing-here").await, StatusCode::NOT_FOUND).await;
    let resp = app
        .client
        .delete(app.url("/api/v1/patch/all"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
}

#[tokio::test]
async fn query_catalog_lists_every_named_query_with_its_sql() {
    let app = spawn_app().await;
    let catalog: Value = app.get("/api/v1/queries").await.json().await.unwrap();
    let dialect = catalog["dialect"].as_str().unwrap();
    let queries = catalog["queries"].as_array().unwrap();
    let get = queries
        .iter()
        .find(|q| q["name"] == "patch_get_by_id")
        .expect("patch_get_by_id listed");
    assert_eq!(
        get["file"],
        format!("sql/{dialect}/queries/patch_get_by_id.sql")
    );
    assert_eq!(get["params"][0]["name"], "id");
    assert_eq!(get["params"][0]["type"], "uniqueidentifier");
    assert!(get["sql"].as_str().unwrap().contains("SELECT"));
    assert!(queries.iter().any(|q| q["kind"] == "migration"));
    assert!(
        queries
            .iter()
            .all(|q| !q["doc"].as_str().unwrap().is_empty())
    );
}

#[tokio::test]
async fn demo_data_is_loaded_into_an_empty_database_once() {
    let app = spawn_app_with(&[("PATCHES_DEMO_DATA", "true")]).await;
    let all: Vec<Value> = app.get("/api/v1/patch/all").await.json().await.unwrap();
    let patches = all.iter().filter(|p| p["patchType"] == "patch").count();
    let areas = all.iter().filter(|p| p["patchType"] == "area").count();
    assert_eq!((patches, areas), (40, 6));
    let types: std::collections::BTreeSet<&str> = all
        .iter()
        .flat_map(|p| p["responsibleEntities"].as_array().unwrap())
        .map(|e| e["responsibleType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types.len(),
        3,
        "officers, area managers and groups: {types:?}"
    );
    let r: Value = app
        .get("/api/v1/properties/100021000000/responsibility")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["areas"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn metrics_expose_requests_latency_query_durations_and_pool_use() {
    let app = spawn_app().await;
    let id = crate::helpers::id_of(
        &app.create(&crate::helpers::patch_body("CP1", "patch", None))
            .await,
    );
    app.get(&format!("/api/v1/patch/{id}")).await;
    app.get("/api/v1/patch/not-a-guid").await;
    let resp = app.get("/metrics").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = resp.text().await.unwrap();
    for series in [
        "patches_http_requests_total{method=\"GET\",route=\"/api/v1/patch/{id}\",status=\"200\"}",
        "patches_http_requests_total{method=\"GET\",route=\"/api/v1/patch/{id}\",status=\"400\"}",
        "patches_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/patch\"",
        "patches_sql_query_duration_seconds_count{query=\"patch_get_by_id\"}",
        "patches_sql_query_duration_seconds_count{query=\"patch_insert\"}",
        "patches_db_pool_connections{state=\"open\"}",
    ] {
        assert!(text.contains(series), "missing {series} in\n{text}");
    }
}
