//! Limits and headers, black-box: oversized bodies, URLs and headers answer a clean
//! 4xx; every response carries the security headers; CORS only for configured origins.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_problem, patch_body, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_body_over_the_limit_answers_413() {
    // A small limit keeps the whole body in the socket buffers: no race with the answer.
    let app = spawn_app_with(&[("PATCHES_MAX_BODY_BYTES", "2048")]).await;
    let mut body = patch_body("CP1", "patch", None);
    body["name"] = json!("x".repeat(4000));
    let resp = app.post("/api/v1/patch", &body).await;
    let problem = assert_problem(resp, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(problem["detail"].as_str().unwrap().contains("2048"));
    // Under the limit all is as before.
    let resp = app
        .post("/api/v1/patch", &patch_body("CP1", "patch", None))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_long_url_answers_414_problem_json() {
    let app = spawn_app().await;
    let resp = app
        .get(&format!("/api/v1/patch?parentId={}", "a".repeat(10_000)))
        .await;
    assert_problem(resp, StatusCode::URI_TOO_LONG).await;
}

#[tokio::test]
async fn oversized_headers_answer_431_problem_json() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/api/v1/patch/all"))
        .header("X-Padding", "p".repeat(40_000))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE).await;
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let app = spawn_app_with(&[
        ("PATCHES_AUTH", "api-keys"),
        (
            "PATCHES_API_KEYS",
            // sha256("k")
            "reader:8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a",
        ),
    ])
    .await;
    let ok = app.get("/health/live").await;
    let not_found = app
        .client
        .get(app.url("/nowhere"))
        .header("X-Api-Key", "k")
        .send()
        .await
        .unwrap();
    let unauthorized = app.get("/api/v1/patch/all").await;
    let docs = app.get("/docs").await;
    for resp in [&ok, &not_found, &unauthorized, &docs] {
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{}", resp.url());
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
    }
    assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
    assert_eq!(unauthorized.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cors_answers_only_configured_origins() {
    let app = spawn_app_with(&[("PATCHES_CORS_ORIGINS", "https://mmh.example.org")]).await;
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/patch"))
        .header("Origin", "https://mmh.example.org")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "https://mmh.example.org");
    assert!(
        h["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );
    assert!(
        h["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("PATCH")
    );

    let allowed = app
        .client
        .get(app.url("/api/v1/patch/all"))
        .header("Origin", "https://mmh.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://mmh.example.org"
    );
    assert!(
        allowed.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("ETag")
    );

    // Another origin: answered as usual but without CORS headers, so a browser keeps
    // the answer from the other site's script.
    let other = app
        .client
        .get(app.url("/api/v1/patch/all"))
        .header("Origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    let other_preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/patch"))
        .header("Origin", "https://evil.example.com")
        .header("Access-Control-Request-Method", "DELETE")
        .send()
        .await
        .unwrap();
    assert!(
        !other_preflight
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

#[tokio::test]
async fn no_cors_headers_by_default() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/api/v1/patch/all"))
        .header("Origin", "https://mmh.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(!resp.headers().contains_key("access-control-allow-origin"));
}
