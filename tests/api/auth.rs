//! Authentication and roles, black-box: real HS256 and RS256 tokens signed here, API
//! keys by header and by Basic, every operation against every role, and the identity
//! that history records.

use std::sync::OnceLock;

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{KeyPair, KeySize},
    signature::KeyPair as _,
};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, id_of, officer, patch_body, spawn_app_with};

const SECRET: &str = "test-secret-test-secret-test-secret-0123";
const GROUPS: &str = "reader=housing-readers;editor=housing-editors;manager=housing-managers";
const QLIK_KEY: &str = "qlik-key-3f9a1c5e7b2d4f6a8c0e1b3d5f7a9c1e";
const ETL_KEY: &str = "etl-key-8b6d4f2a0c8e6b4d2f0a8c6e4b2d0f8a";

fn hours_from_now(h: i64) -> i64 {
    chrono::Utc::now().timestamp() + h * 3600
}

fn claims(sub: &str, groups: &[&str]) -> Value {
    json!({ "sub": sub, "groups": groups, "exp": hours_from_now(2), "iat": hours_from_now(0) })
}

fn sign(alg: Algorithm, claims: &Value, key: &EncodingKey) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, key).expect("sign")
}

fn hs256(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    )
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// One RSA key pair per test run, generated here (never committed).
struct Rsa {
    private_pem: String,
    public_pem: String,
}

fn rsa() -> &'static Rsa {
    static RSA: OnceLock<Rsa> = OnceLock::new();
    RSA.get_or_init(|| {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("generate RSA key");
        let private = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
        let public =
            AsDer::<aws_lc_rs::encoding::PublicKeyX509Der>::as_der(pair.public_key()).unwrap();
        Rsa {
            private_pem: pem("PRIVATE KEY", private.as_ref()),
            public_pem: pem("PUBLIC KEY", public.as_ref()),
        }
    })
}

fn rs256(claims: &Value) -> String {
    sign(
        Algorithm::RS256,
        claims,
        &EncodingKey::from_rsa_pem(rsa().private_pem.as_bytes()).unwrap(),
    )
}

fn sha256_hex(key: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn api_keys() -> String {
    format!(
        "qlik=reader:{},etl=editor:{}",
        sha256_hex(QLIK_KEY),
        sha256_hex(ETL_KEY)
    )
}

async fn spawn_hs256() -> TestApp {
    spawn_app_with(&[
        ("PATCHES_AUTH", "jwt"),
        ("PATCHES_JWT_SECRET", SECRET),
        ("PATCHES_ROLE_GROUPS", GROUPS),
        ("PATCHES_API_KEYS", &api_keys()),
    ])
    .await
}

async fn spawn_rs256() -> TestApp {
    spawn_app_with(&[
        ("PATCHES_AUTH", "jwt"),
        ("PATCHES_JWT_PUBLIC_KEY", &rsa().public_pem),
        ("PATCHES_ROLE_GROUPS", GROUPS),
    ])
    .await
}

fn bearer(app: &TestApp, method: Method, path: &str, token: &str) -> RequestBuilder {
    app.client.request(method, app.url(path)).bearer_auth(token)
}

async fn get_with(app: &TestApp, token: &str) -> Response {
    bearer(app, Method::GET, "/api/v1/patch/all", token)
        .send()
        .await
        .unwrap()
}

/// Asserts a 401 with problem+json and a challenge for each accepted scheme.
async fn assert_401(resp: Response, schemes: &[&str]) -> Value {
    let challenges: Vec<String> = resp
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    for scheme in schemes {
        assert!(
            challenges
                .iter()
                .any(|c| c.starts_with(&format!("{scheme} realm=\"patches\""))),
            "no {scheme} challenge in {challenges:?}"
        );
    }
    assert_problem(resp, StatusCode::UNAUTHORIZED).await
}

// ---------------------------------------------------------------- tokens

#[tokio::test]
async fn valid_hs256_and_rs256_tokens_are_accepted() {
    let app = spawn_hs256().await;
    let resp = get_with(&app, &hs256(&claims("u1", &["housing-readers"]))).await;
    assert_eq!(resp.status(), StatusCode::OK);

    let app = spawn_rs256().await;
    let resp = get_with(&app, &rs256(&claims("u1", &["housing-readers"]))).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_rs256_public_key_may_be_given_as_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwt-public.pem");
    std::fs::write(&path, &rsa().public_pem).unwrap();
    let app = spawn_app_with(&[
        ("PATCHES_AUTH", "jwt"),
        ("PATCHES_JWT_PUBLIC_KEY", path.to_str().unwrap()),
        ("PATCHES_ROLE_GROUPS", GROUPS),
    ])
    .await;
    let resp = get_with(&app, &rs256(&claims("u1", &["housing-readers"]))).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused() {
    let app = spawn_hs256().await;
    let mut expired = claims("u1", &["housing-managers"]);
    expired["exp"] = json!(hours_from_now(-3));
    let body = assert_401(get_with(&app, &hs256(&expired)).await, &["Bearer"]).await;
    assert!(body["detail"].as_str().unwrap().contains("expired"));

    let mut future = claims("u1", &["housing-managers"]);
    future["nbf"] = json!(hours_from_now(3));
    future["exp"] = json!(hours_from_now(5));
    let body = assert_401(get_with(&app, &hs256(&future)).await, &["Bearer"]).await;
    assert!(body["detail"].as_str().unwrap().contains("not valid yet"));
}

#[tokio::test]
async fn a_token_without_exp_or_sub_is_refused() {
    let app = spawn_hs256().await;
    let no_exp = json!({ "sub": "u1", "groups": ["housing-managers"] });
    assert_401(get_with(&app, &hs256(&no_exp)).await, &["Bearer"]).await;
    let no_sub = json!({ "groups": ["housing-managers"], "exp": hours_from_now(1) });
    assert_401(get_with(&app, &hs256(&no_sub)).await, &["Bearer"]).await;
}

#[tokio::test]
async fn a_token_signed_with_another_secret_is_refused() {
    let app = spawn_hs256().await;
    let forged = sign(
        Algorithm::HS256,
        &claims("u1", &["housing-managers"]),
        &EncodingKey::from_secret(b"another-secret-another-secret-0123456").unwrap(),
    );
    let resp = get_with(&app, &forged).await;
    let challenge = resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    assert_401(resp, &["Bearer"]).await;
}

#[tokio::test]
async fn only_the_configured_algorithm_is_accepted() {
    let c = claims("u1", &["housing-managers"]);
    // RS256 configured: an HS256 token whose secret is the public key (the classic
    // algorithm-confusion attack), and one with the real HS secret, are both refused.
    let app = spawn_rs256().await;
    let confused = sign(
        Algorithm::HS256,
        &c,
        &EncodingKey::from_secret(rsa().public_pem.as_bytes()).unwrap(),
    );
    assert_401(get_with(&app, &confused).await, &["Bearer"]).await;
    assert_401(get_with(&app, &hs256(&c)).await, &["Bearer"]).await;

    // HS256 configured: RS256 and HS384 (same secret) are refused.
    let app = spawn_hs256().await;
    assert_401(get_with(&app, &rs256(&c)).await, &["Bearer"]).await;
    let hs384 = sign(
        Algorithm::HS384,
        &c,
        &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
    );
    assert_401(get_with(&app, &hs384).await, &["Bearer"]).await;
}

#[tokio::test]
async fn alg_none_and_malformed_tokens_are_refused() {
    let app = spawn_hs256().await;
    let c = claims("u1", &["housing-managers"]);
    let payload = b64url(c.to_string().as_bytes());
    for header in [r#"{"alg":"none","typ":"JWT"}"#, r#"{"alg":"None"}"#] {
        let unsigned = format!("{}.{payload}.", b64url(header.as_bytes()));
        assert_401(get_with(&app, &unsigned).await, &["Bearer"]).await;
    }
    // A valid token with its signature stripped.
    let token = hs256(&c);
    let stripped = &token[..=token.rfind('.').unwrap()];
    assert_401(get_with(&app, stripped).await, &["Bearer"]).await;
    for junk in ["abc", "a.b.c", "....", "e30.e30.e30", &"x".repeat(5000)] {
        assert_401(get_with(&app, junk).await, &["Bearer"]).await;
    }
    for header in ["Bearer", "Bearer ", "Token abc", "Basic !!!"] {
        let resp = app
            .client
            .get(app.url("/api/v1/patch/all"))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_401(resp, &["Bearer"]).await;
    }
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let app = spawn_app_with(&[
        ("PATCHES_AUTH", "jwt"),
        ("PATCHES_JWT_SECRET", SECRET),
        ("PATCHES_ROLE_GROUPS", GROUPS),
        ("PATCHES_JWT_ISSUER", "https://login.example.org/tenant"),
        ("PATCHES_JWT_AUDIENCE", "api://patches"),
    ])
    .await;
    let with = |iss: Option<&str>, aud: Option<&str>| {
        let mut c = claims("u1", &["housing-readers"]);
        if let Some(i) = iss {
            c["iss"] = json!(i);
        }
        if let Some(a) = aud {
            c["aud"] = json!(a);
        }
        hs256(&c)
    };
    let good = with(
        Some("https://login.example.org/tenant"),
        Some("api://patches"),
    );
    assert_eq!(get_with(&app, &good).await.status(), StatusCode::OK);
    for (iss, aud, why) in [
        (
            Some("https://evil.example.org"),
            Some("api://patches"),
            "issuer",
        ),
        (
            Some("https://login.example.org/tenant"),
            Some("api://other"),
            "audience",
        ),
        (None, Some("api://patches"), "lacks"),
        (Some("https://login.example.org/tenant"), None, "lacks"),
    ] {
        let body = assert_401(get_with(&app, &with(iss, aud)).await, &["Bearer"]).await;
        assert!(
            body["detail"].as_str().unwrap().contains(why),
            "{iss:?} {aud:?}: {body}"
        );
    }
}

// ---------------------------------------------------------------- API keys

#[tokio::test]
async fn api_keys_work_by_header_and_as_the_basic_password() {
    let app = spawn_hs256().await;
    let by_header = app
        .client
        .get(app.url("/api/v1/patch/all"))
        .header("X-Api-Key", QLIK_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(by_header.status(), StatusCode::OK);
    for user in ["qlik", "", "anything at all"] {
        let by_basic = app
            .client
            .get(app.url("/api/v1/patch/all"))
            .basic_auth(user, Some(QLIK_KEY))
            .send()
            .await
            .unwrap();
        assert_eq!(by_basic.status(), StatusCode::OK, "user {user:?}");
    }
    // The key carries its role: Qlik's reader key cannot write.
    let write = app
        .client
        .post(app.url("/api/v1/patch"))
        .header("X-Api-Key", QLIK_KEY)
        .json(&patch_body("CP1", "patch", None))
        .send()
        .await
        .unwrap();
    assert_problem(write, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_wrong_api_key_is_refused_with_both_challenges() {
    let app = spawn_hs256().await;
    let wrong = app
        .client
        .get(app.url("/api/v1/patch/all"))
        .header("X-Api-Key", "not-a-key")
        .send()
        .await
        .unwrap();
    assert_401(wrong, &["Bearer", "Basic"]).await;
    // A key's hash is not the key.
    let hash = app
        .client
        .get(app.url("/api/v1/patch/all"))
        .basic_auth("qlik", Some(sha256_hex(QLIK_KEY)))
        .send()
        .await
        .unwrap();
    assert_401(hash, &["Bearer", "Basic"]).await;
}

#[tokio::test]
async fn api_keys_alone_accept_no_bearer_tokens() {
    let app = spawn_app_with(&[
        ("PATCHES_AUTH", "api-keys"),
        ("PATCHES_API_KEYS", &api_keys()),
    ])
    .await;
    let resp = get_with(&app, &hs256(&claims("u1", &["housing-managers"]))).await;
    let challenges: Vec<_> = resp.headers().get_all("www-authenticate").iter().collect();
    assert_eq!(challenges.len(), 1);
    assert_401(resp, &["Basic"]).await;
    let ok = app
        .client
        .get(app.url("/api/v1/patch/all"))
        .basic_auth("powerbi", Some(QLIK_KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

// ---------------------------------------------------------------- 401 / 403 bodies

#[tokio::test]
async fn missing_credentials_answer_401_naming_the_accepted_schemes() {
    let app = spawn_hs256().await;
    let resp = app.get("/api/v1/patch/all").await;
    assert!(resp.headers().contains_key("x-request-id"));
    let body = assert_401(resp, &["Bearer", "Basic"]).await;
    assert_eq!(
        body["type"],
        "https://patches.example/problems/unauthenticated"
    );
    assert!(body["detail"].as_str().unwrap().contains("X-Api-Key"));
}

#[tokio::test]
async fn reporting_routes_answer_auth_errors_in_odata_format() {
    let app = spawn_hs256().await;
    for path in [
        "/api/v1/odata",
        "/api/v1/odata/Patches",
        "/api/v1/odata/$metadata",
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(resp.headers().contains_key("www-authenticate"));
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated", "{body}");
        assert!(body["error"]["message"].is_string());
    }
    // Qlik's reader key reads the reporting API, as JSON and as CSV.
    for path in [
        "/api/v1/odata/Patches?$top=1",
        "/api/v1/odata/Patches?$format=csv",
    ] {
        let resp = app
            .client
            .get(app.url(path))
            .basic_auth("qlik", Some(QLIK_KEY))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
    }
    let nobody = hs256(&claims("u1", &["unrelated-group"]));
    let resp = bearer(&app, Method::GET, "/api/v1/odata/Patches", &nobody)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden");
}

#[tokio::test]
async fn a_valid_token_without_a_configured_group_gets_403_naming_the_role() {
    let app = spawn_hs256().await;
    let token = hs256(&claims("u1", &["some-other-team"]));
    let body = assert_problem(get_with(&app, &token).await, StatusCode::FORBIDDEN).await;
    assert!(
        body["detail"].as_str().unwrap().contains("`reader`"),
        "{body}"
    );
}

#[tokio::test]
async fn health_and_the_api_description_need_no_credentials() {
    let app = spawn_hs256().await;
    for path in [
        "/health/live",
        "/health/ready",
        "/api/v1/openapi.json",
        "/docs",
    ] {
        assert_eq!(app.get(path).await.status(), StatusCode::OK, "{path}");
    }
    // Bad credentials on a public route do not turn it into a 401.
    let resp = bearer(&app, Method::GET, "/health/live", "garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_encoded_slash_does_not_reach_a_manager_route_with_editor_rights() {
    let app = spawn_hs256().await;
    let manager = hs256(&claims("m", &["housing-managers"]));
    let editor = hs256(&claims("e", &["housing-editors"]));
    let id = id_of(&create_as(&app, &manager, &patch_body("CP1", "patch", None)).await);
    for path in [
        format!("/api/v1/patch/{id}%2Fresponsible-entities"),
        format!("/api/v1/patch/{id}%2fresponsibleEntities"),
    ] {
        let resp = bearer(&app, Method::PUT, &path, &editor)
            .json(&json!([officer(Uuid::new_v4(), "A B")]))
            .send()
            .await
            .unwrap();
        assert!(
            !resp.status().is_success(),
            "{path} answered {}",
            resp.status()
        );
    }
}

// ---------------------------------------------------------------- the role matrix

/// Every operation of the CRUD API and the catalog, and the least role it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    GetPatch,
    ListChildren,
    ListByResponsibleEntity,
    ListAll,
    History,
    PropertyResponsibility,
    Queries,
    Create,
    Update,
    UpsertEntity,
    UpsertEntityCompat,
    RemoveEntity,
    RemoveEntityCompat,
    AssignProperty,
    ReplaceEntities,
    ReplaceEntitiesCompat,
    Delete,
}

const OPS: [(Op, usize); 17] = [
    (Op::GetPatch, 0),
    (Op::ListChildren, 0),
    (Op::ListByResponsibleEntity, 0),
    (Op::ListAll, 0),
    (Op::History, 0),
    (Op::PropertyResponsibility, 0),
    (Op::Queries, 0),
    (Op::Create, 1),
    (Op::Update, 1),
    (Op::UpsertEntity, 1),
    (Op::UpsertEntityCompat, 1),
    (Op::RemoveEntity, 1),
    (Op::RemoveEntityCompat, 1),
    (Op::AssignProperty, 1),
    (Op::ReplaceEntities, 2),
    (Op::ReplaceEntitiesCompat, 2),
    (Op::Delete, 2),
];

async fn create_as(app: &TestApp, token: &str, body: &Value) -> Value {
    let resp = bearer(app, Method::POST, "/api/v1/patch", token)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}

/// Sets up what `op` needs (as a manager) and returns the request to try.
async fn prepare(app: &TestApp, manager: &str, op: Op) -> (Method, String, Option<Value>) {
    let root = id_of(&create_as(app, manager, &patch_body("Area", "area", None)).await);
    let patch = id_of(&create_as(app, manager, &patch_body("CP", "patch", Some(root))).await);
    let re = Uuid::new_v4();
    let property = format!("1000{}", rand_digits());
    if matches!(
        op,
        Op::RemoveEntity | Op::RemoveEntityCompat | Op::ListByResponsibleEntity
    ) {
        let resp = bearer(
            app,
            Method::PATCH,
            &format!("/api/v1/patch/{patch}/responsible-entity/{re}"),
            manager,
        )
        .json(&json!({ "name": "A B", "responsibleType": "HousingOfficer" }))
        .send()
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    if op == Op::PropertyResponsibility {
        let resp = bearer(
            app,
            Method::PUT,
            &format!("/api/v1/properties/{property}/patch"),
            manager,
        )
        .json(&json!({ "patchId": patch }))
        .send()
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let entity = json!({ "name": "C D", "responsibleType": "Group" });
    match op {
        Op::GetPatch => (Method::GET, format!("/api/v1/patch/{patch}"), None),
        Op::ListChildren => (Method::GET, format!("/api/v1/patch?parentId={root}"), None),
        Op::ListByResponsibleEntity => (
            Method::GET,
            format!("/api/v1/patch?responsibleEntityId={re}"),
            None,
        ),
        Op::ListAll => (Method::GET, "/api/v1/patch/all".into(), None),
        Op::History => (Method::GET, format!("/api/v1/patch/{patch}/history"), None),
        Op::PropertyResponsibility => (
            Method::GET,
            format!("/api/v1/properties/{property}/responsibility"),
            None,
        ),
        Op::Queries => (Method::GET, "/api/v1/queries".into(), None),
        Op::Create => (
            Method::POST,
            "/api/v1/patch".into(),
            Some(patch_body("New", "patch", Some(root))),
        ),
        Op::Update => (
            Method::PUT,
            format!("/api/v1/patch/{patch}"),
            Some(patch_body("Renamed", "patch", Some(root))),
        ),
        Op::UpsertEntity => (
            Method::PATCH,
            format!(
                "/api/v1/patch/{patch}/responsible-entity/{}",
                Uuid::new_v4()
            ),
            Some(entity),
        ),
        Op::UpsertEntityCompat => (
            Method::PATCH,
            format!("/api/v1/patch/{patch}/responsibleEntity/{}", Uuid::new_v4()),
            Some(entity),
        ),
        Op::RemoveEntity => (
            Method::DELETE,
            format!("/api/v1/patch/{patch}/responsible-entity/{re}"),
            None,
        ),
        Op::RemoveEntityCompat => (
            Method::DELETE,
            format!("/api/v1/patch/{patch}/responsibleEntity/{re}"),
            None,
        ),
        Op::AssignProperty => (
            Method::PUT,
            format!("/api/v1/properties/{property}/patch"),
            Some(json!({ "patchId": patch })),
        ),
        Op::ReplaceEntities => (
            Method::PUT,
            format!("/api/v1/patch/{patch}/responsible-entities"),
            Some(json!([officer(Uuid::new_v4(), "E F")])),
        ),
        Op::ReplaceEntitiesCompat => (
            Method::PUT,
            format!("/api/v1/patch/{patch}/responsibleEntities"),
            Some(json!([officer(Uuid::new_v4(), "E F")])),
        ),
        Op::Delete => (Method::DELETE, format!("/api/v1/patch/{patch}"), None),
    }
}

fn rand_digits() -> String {
    Uuid::new_v4().as_u128().to_string()[..8].to_string()
}

#[tokio::test]
async fn every_operation_is_allowed_from_its_role_up_and_refused_below() {
    let app = spawn_hs256().await;
    let manager = hs256(&claims("setup", &["housing-managers"]));
    // Callers from no credentials, through a token in no group, to each role.
    let callers: [(&str, Option<String>, Option<usize>); 5] = [
        ("anonymous", None, None),
        ("no group", Some(hs256(&claims("n", &["other"]))), None),
        (
            "reader",
            Some(hs256(&claims("r", &["housing-readers"]))),
            Some(0),
        ),
        (
            "editor",
            Some(hs256(&claims("e", &["housing-editors"]))),
            Some(1),
        ),
        ("manager", Some(manager.clone()), Some(2)),
    ];
    for (op, needs) in OPS {
        for (who, token, level) in &callers {
            let (method, path, body) = prepare(&app, &manager, op).await;
            let mut req = app.client.request(method.clone(), app.url(&path));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            if let Some(b) = &body {
                req = req.json(b);
            }
            let status = req.send().await.unwrap().status();
            let expected = match level {
                None if token.is_none() => "401",
                Some(l) if *l >= needs => "2xx",
                _ => "403",
            };
            let ok = match expected {
                "401" => status == StatusCode::UNAUTHORIZED,
                "403" => status == StatusCode::FORBIDDEN,
                _ => status.is_success(),
            };
            assert!(
                ok,
                "{op:?} ({method} {path}) as {who}: expected {expected}, got {status}"
            );
        }
    }
}

#[tokio::test]
async fn the_openapi_document_states_every_operations_role() {
    let app = spawn_hs256().await;
    let spec: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let mut seen = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            seen += 1;
            let role = op["x-required-role"].as_str().unwrap_or_else(|| {
                panic!("{method} {path} has no x-required-role");
            });
            let description = op["description"].as_str().unwrap();
            let security = op["security"].as_array().unwrap();
            if path.starts_with("/health/") {
                assert_eq!(role, "none", "{method} {path}");
                assert!(security.is_empty());
            } else {
                assert!(["reader", "editor", "manager"].contains(&role));
                assert!(
                    description.contains(&format!("Required role: `{role}`")),
                    "{method} {path}: {description}"
                );
                assert_eq!(security.len(), 3, "{method} {path}");
            }
        }
    }
    assert!(seen >= 18);
    let role = |path: &str, method: &str| spec["paths"][path][method]["x-required-role"].clone();
    assert_eq!(role("/api/v1/patch/{id}", "get"), "reader");
    assert_eq!(role("/api/v1/patch", "post"), "editor");
    assert_eq!(
        role("/api/v1/patch/{id}/responsible-entity/{reId}", "delete"),
        "editor"
    );
    assert_eq!(
        role("/api/v1/patch/{id}/responsibleEntities", "put"),
        "manager"
    );
    assert_eq!(role("/api/v1/patch/{id}", "delete"), "manager");
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["apiKey"]["name"], "X-Api-Key");
    assert_eq!(schemes["basic"]["scheme"], "basic");
    // The docs page shows the same annotated document.
    let docs = app.get("/docs").await.text().await.unwrap();
    assert!(docs.contains("x-required-role"));
}

// ---------------------------------------------------------------- identity in history

async fn history_authors(app: &TestApp, token: &str, id: Uuid) -> Vec<String> {
    let page: Value = bearer(
        app,
        Method::GET,
        &format!("/api/v1/patch/{id}/history"),
        token,
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["changedBy"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn history_records_the_token_subject_with_name_and_email() {
    let app = spawn_hs256().await;
    let mut c = claims("7d0c9a1e-jane", &["housing-managers"]);
    c["name"] = json!("Jane Doe");
    c["email"] = json!("jane.doe@example.org");
    let jane = hs256(&c);
    let id = id_of(&create_as(&app, &jane, &patch_body("CP1", "patch", None)).await);
    let bare = hs256(&claims("svc-42", &["housing-editors"]));
    let resp = bearer(&app, Method::PUT, &format!("/api/v1/patch/{id}"), &bare)
        .json(&patch_body("CP1 renamed", "patch", None))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        history_authors(&app, &jane, id).await,
        ["svc-42", "7d0c9a1e-jane (Jane Doe <jane.doe@example.org>)"]
    );
}

#[tokio::test]
async fn history_records_the_api_key_label() {
    let app = spawn_hs256().await;
    let resp = app
        .client
        .post(app.url("/api/v1/patch"))
        .basic_auth("etl", Some(ETL_KEY))
        .json(&patch_body("CP1", "patch", None))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = id_of(&resp.json().await.unwrap());
    let reader = hs256(&claims("r", &["housing-readers"]));
    assert_eq!(history_authors(&app, &reader, id).await, ["api-key:etl"]);
}

#[tokio::test]
async fn an_overlong_identity_is_cut_to_fit_the_history_column() {
    let app = spawn_hs256().await;
    let mut c = claims(&"s".repeat(150), &["housing-managers"]);
    c["name"] = json!("N".repeat(150));
    let token = hs256(&c);
    let id = id_of(&create_as(&app, &token, &patch_body("CP1", "patch", None)).await);
    let authors = history_authors(&app, &token, id).await;
    assert_eq!(authors[0].chars().count(), 200);
    assert!(authors[0].starts_with(&"s".repeat(150)));
}

// ---------------------------------------------------------------- start-up

#[test]
fn the_binary_refuses_auth_none_on_a_public_address_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_patches"))
        .env_clear()
        .env("PATCHES_LISTEN", "0.0.0.0:0")
        .env("PATCHES_AUTH", "none")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/p.db", dir.path().display()),
        )
        .output()
        .expect("run the binary");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PATCHES_AUTH") && stderr.contains("loopback"),
        "{stderr}"
    );
}
