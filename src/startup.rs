//! Building and running the application: connect, migrate, load demo data, serve.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use poem::{
    Server,
    listener::{Acceptor, Listener, TcpListener},
};

use crate::{
    api::{self, odata::ReportSettings},
    config::{AuthMode, Settings},
    demo,
    store::{self, Database, StoreError, migrate, patches::PatchStore},
};

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened, migrated or seeded.
    #[error("database: {0}")]
    Database(#[from] StoreError),
    /// Demo data could not be loaded.
    #[error("demo data: {0}")]
    Demo(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
}

/// Opens the configured database and applies pending migrations.
pub async fn open_database(settings: &Settings) -> Result<Arc<dyn Database>, StartupError> {
    let db = store::connect(&settings.database_url).await?;
    let applied = migrate::run(db.as_ref()).await?;
    tracing::info!(database = %db.describe(), migrations_applied = applied.len(), "database ready");
    Ok(db)
}

/// A bound, ready-to-serve application.
pub struct Application {
    acceptor: poem::listener::TcpAcceptor,
    address: SocketAddr,
    store: PatchStore,
    report: ReportSettings,
    settings: Settings,
}

impl Application {
    /// Connects, migrates, loads demo data into an empty database (if enabled) and
    /// binds the listen address.
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let db = open_database(settings).await?;
        let store = PatchStore::new(db);
        if settings.demo_data {
            demo::load_if_empty(&store)
                .await
                .map_err(|e| StartupError::Demo(e.to_string()))?;
        }
        let acceptor = TcpListener::bind(settings.listen)
            .into_acceptor()
            .await
            .map_err(|e| StartupError::Listen(settings.listen, e))?;
        let address = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .unwrap_or(settings.listen);
        let report = ReportSettings {
            max_page_size: u64::from(settings.max_page_size),
            public_url: settings.public_url.clone(),
            query_timeout: Duration::from_millis(settings.query_timeout_ms),
            listen: address.to_string(),
        };
        Ok(Application {
            acceptor,
            address,
            store,
            report,
            settings: settings.clone(),
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes, then drains in-flight requests (up to 10 s).
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        tracing::info!(address = %self.address, docs = %format!("http://{}/docs", self.address), "serving");
        log_auth(&self.settings);
        Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(
                api::app(self.store, self.report, &self.settings),
                shutdown,
                Some(Duration::from_secs(10)),
            )
            .await
    }
}

/// Says at start-up how callers are checked (never the secrets themselves).
fn log_auth(settings: &Settings) {
    let auth = &settings.auth;
    match auth.mode() {
        AuthMode::None => {
            tracing::warn!(
                "authentication is off (PATCHES_AUTH=none): every caller may do everything"
            )
        }
        AuthMode::Jwt => {
            let jwt = auth.jwt_settings();
            tracing::info!(
                algorithm = jwt.map_or("", |j| j.algorithm()),
                api_keys = auth.accepts_api_keys(),
                "authentication: bearer tokens"
            );
            if !jwt.is_some_and(|j| j.checks_audience()) {
                tracing::warn!(
                    "PATCHES_JWT_AUDIENCE is not set: tokens issued for other applications by the same issuer are accepted"
                );
            }
        }
        AuthMode::ApiKeys => tracing::info!("authentication: API keys only"),
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
