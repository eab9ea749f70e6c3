//! Starts the real application on `127.0.0.1:0` with a fresh database per test, so
//! every test talks HTTP exactly as a client would.
//!
//! Backend: a fresh SQLite file; or, when `PATCHES_TEST_MSSQL` holds an ADO.NET
//! connection string, a fresh SQL Server database created for the test.

use std::{sync::Arc, time::Duration};

use patches::{
    config::Sources,
    startup::Application,
    store::{self, Database, migrate},
};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;

/// A running application and a client for it.
pub struct TestApp {
    pub address: String,
    /// The database the app serves (for tests that also open it directly).
    pub database_url: String,
    pub client: reqwest::Client,
    _dir: TempDir,
}

/// The connection string of the SQL Server used by the suites, if any.
pub fn mssql_connection_string() -> Option<String> {
    std::env::var("PATCHES_TEST_MSSQL")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

fn with_database(ado: &str, database: &str) -> String {
    let kept: Vec<&str> = ado
        .split(';')
        .filter(|part| {
            let key = part
                .split('=')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            !part.trim().is_empty() && key != "database" && key != "initial catalog"
        })
        .collect();
    format!("{};database={database}", kept.join(";"))
}

/// Creates an empty SQL Server database for one test and returns its connection string.
/// Creations are serialised (and retried): Babelfish fails concurrent CREATE DATABASE
/// with "tuple concurrently updated".
pub async fn fresh_mssql_database(ado: &str) -> String {
    static CREATE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one_at_a_time = CREATE.lock().await;
    let name = format!("patches_test_{}", Uuid::new_v4().simple());
    let mut last_error = String::new();
    for attempt in 0..5 {
        match create_database(ado, &name).await {
            Ok(()) => return with_database(ado, &name),
            Err(e) => {
                last_error = e;
                tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
            }
        }
    }
    panic!("cannot create test database {name}: {last_error}");
}

async fn create_database(ado: &str, name: &str) -> Result<(), String> {
    use tokio_util::compat::TokioAsyncWriteCompatExt;
    let config =
        tiberius::Config::from_ado_string(ado).map_err(|e| format!("PATCHES_TEST_MSSQL: {e}"))?;
    let tcp = tokio::net::TcpStream::connect(config.get_addr())
        .await
        .map_err(|e| e.to_string())?;
    let mut client = tiberius::Client::connect(config, tcp.compat_write())
        .await
        .map_err(|e| e.to_string())?;
    client
        .simple_query(format!("CREATE DATABASE {name}"))
        .await
        .map_err(|e| e.to_string())?
        .into_results()
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// A fresh database URL: a SQLite file in `dir`, or a new SQL Server database.
pub async fn fresh_database_url(dir: &TempDir) -> String {
    match mssql_connection_string() {
        Some(ado) => fresh_mssql_database(&ado).await,
        None => format!("sqlite://{}/patches.db", dir.path().display()),
    }
}

/// A fresh, migrated database (for store-level tests).
pub async fn fresh_database(url: &str) -> Arc<dyn Database> {
    let db = store::connect(url).await.expect("connect");
    migrate::run(db.as_ref()).await.expect("migrate");
    db
}

/// Starts the application with an empty database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the application with extra settings.
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut sources = Sources::default();
    sources.set("PATCHES_LISTEN", "127.0.0.1:0");
    let database_url = fresh_database_url(&dir).await;
    sources.set("DATABASE_URL", database_url.clone());
    sources.set("PATCHES_DEMO_DATA", "false");
    for (k, v) in settings {
        sources.set(k, *v);
    }
    let settings = sources.settings().expect("valid test settings");
    let app = Application::build(&settings)
        .await
        .expect("application starts");
    let address = format!("http://{}", app.address());
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        database_url,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client"),
        _dir: dir,
    }
}

/// A minimal valid create body.
pub fn patch_body(name: &str, kind: &str, parent: Option<Uuid>) -> Value {
    json!({ "name": name, "patchType": kind, "domain": "MMH", "parentId": parent })
}

/// An officer for responsible-entity lists.
pub fn officer(id: Uuid, name: &str) -> Value {
    json!({
        "id": id, "name": name, "responsibleType": "HousingOfficer",
        "contactDetails": { "emailAddress": format!("{}@example.org", name.to_lowercase().replace(' ', ".")) }
    })
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        if_match: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(v) = if_match {
            req = req.header("If-Match", v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.expect("request")
    }

    /// Creates a patch and returns its JSON.
    pub async fn create(&self, body: &Value) -> Value {
        let resp = self.post("/api/v1/patch", body).await;
        assert_eq!(
            resp.status(),
            StatusCode::CREATED,
            "create failed: {:?}",
            resp.text().await
        );
        resp.json().await.expect("json")
    }

    /// Creates root → area → patch and returns their ids.
    pub async fn tree(&self) -> (Uuid, Uuid, Uuid) {
        let root = id_of(&self.create(&patch_body("Borough", "area", None)).await);
        let area = id_of(
            &self
                .create(&patch_body("North Area", "area", Some(root)))
                .await,
        );
        let patch = id_of(&self.create(&patch_body("CP7", "patch", Some(area))).await);
        (root, area, patch)
    }
}

pub fn id_of(v: &Value) -> Uuid {
    v["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id in body")
}

/// Asserts a problem+json answer with `status`, and returns its body.
pub async fn assert_problem(resp: Response, status: StatusCode) -> Value {
    assert_eq!(resp.status(), status);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        ct.starts_with("application/problem+json"),
        "content type was {ct}"
    );
    let body: Value = resp.json().await.expect("problem body");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["title"].is_string() && body["type"].is_string());
    let text = body.to_string().to_lowercase();
    for leak in [
        "select ", "insert ", "update ", "sqlite", "panicked", "stack",
    ] {
        assert!(!text.contains(leak), "problem leaks `{leak}`: {text}");
    }
    body
}
