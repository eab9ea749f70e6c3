//! Storage: one trait ([`Database`]) with a SQLite and a SQL Server implementation.
//!
//! The database layer only knows how to run *named* SQL (see [`catalog`]) with
//! parameters inside a transaction. Everything a patch operation does (lock, check the
//! version, change, write history) is written once, in [`patches`], over that trait,
//! so both dialects run the same logic and differ only in their SQL files.

pub mod catalog;
pub mod migrate;
pub mod mssql;
pub mod patches;
pub mod sqlite;
pub mod views;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use uuid::Uuid;

pub use catalog::{Catalog, Dialect};

/// A value bound to a parameter or read from a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A GUID (`uniqueidentifier`; text in SQLite).
    Uuid(Uuid),
    /// Text (`nvarchar`).
    Text(String),
    /// An integer (`int`, `bigint`, `bit`).
    Int(i64),
    /// A UTC timestamp (`datetime2`; ISO-8601 text in SQLite).
    Timestamp(DateTime<Utc>),
}

impl From<Uuid> for Value {
    fn from(v: Uuid) -> Self {
        Value::Uuid(v)
    }
}
impl From<Option<Uuid>> for Value {
    fn from(v: Option<Uuid>) -> Self {
        v.map_or(Value::Null, Value::Uuid)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        v.map_or(Value::Null, Value::Text)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        v.map_or(Value::Null, |s| Value::Text(s.to_string()))
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Value::Null, Value::Int)
    }
}
impl From<DateTime<Utc>> for Value {
    fn from(v: DateTime<Utc>) -> Self {
        Value::Timestamp(v)
    }
}

/// The text form timestamps take in SQLite: sortable, UTC, millisecond precision.
pub const SQLITE_TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// One result row: column names shared by all rows of a result, values in order.
#[derive(Debug, Clone)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Value>,
}

impl Row {
    /// A row from its column names and values.
    pub fn new(columns: Arc<[String]>, values: Vec<Value>) -> Self {
        Row { columns, values }
    }

    /// The value of column `name` (case-insensitive), or an error naming the column.
    pub fn get(&self, name: &str) -> Result<&Value, StoreError> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| StoreError::Decode(format!("no column `{name}` in result")))
    }

    /// Column `name` as an optional GUID.
    pub fn opt_uuid(&self, name: &str) -> Result<Option<Uuid>, StoreError> {
        match self.get(name)? {
            Value::Null => Ok(None),
            Value::Uuid(u) => Ok(Some(*u)),
            Value::Text(t) => Uuid::parse_str(t)
                .map(Some)
                .map_err(|e| StoreError::Decode(format!("column `{name}`: {e}"))),
            other => Err(StoreError::Decode(format!(
                "column `{name}`: expected GUID, got {other:?}"
            ))),
        }
    }

    /// Column `name` as a GUID.
    pub fn uuid(&self, name: &str) -> Result<Uuid, StoreError> {
        self.opt_uuid(name)?
            .ok_or_else(|| StoreError::Decode(format!("column `{name}` is NULL")))
    }

    /// Column `name` as optional text.
    pub fn opt_text(&self, name: &str) -> Result<Option<String>, StoreError> {
        match self.get(name)? {
            Value::Null => Ok(None),
            Value::Text(t) => Ok(Some(t.clone())),
            Value::Uuid(u) => Ok(Some(u.to_string())),
            Value::Int(i) => Ok(Some(i.to_string())),
            Value::Timestamp(t) => Ok(Some(t.format(SQLITE_TIMESTAMP_FORMAT).to_string())),
        }
    }

    /// Column `name` as text.
    pub fn text(&self, name: &str) -> Result<String, StoreError> {
        self.opt_text(name)?
            .ok_or_else(|| StoreError::Decode(format!("column `{name}` is NULL")))
    }

    /// Column `name` as an optional integer.
    pub fn opt_int(&self, name: &str) -> Result<Option<i64>, StoreError> {
        match self.get(name)? {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(*i)),
            Value::Text(t) => t
                .parse()
                .map(Some)
                .map_err(|e| StoreError::Decode(format!("column `{name}`: {e}"))),
            other => Err(StoreError::Decode(format!(
                "column `{name}`: expected integer, got {other:?}"
            ))),
        }
    }

    /// Column `name` as an integer.
    pub fn int(&self, name: &str) -> Result<i64, StoreError> {
        self.opt_int(name)?
            .ok_or_else(|| StoreError::Decode(format!("column `{name}` is NULL")))
    }

    /// Column `name` as a UTC timestamp.
    pub fn timestamp(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        match self.get(name)? {
            Value::Timestamp(t) => Ok(*t),
            Value::Text(t) => parse_timestamp(t)
                .ok_or_else(|| StoreError::Decode(format!("column `{name}`: bad timestamp `{t}`"))),
            other => Err(StoreError::Decode(format!(
                "column `{name}`: expected timestamp, got {other:?}"
            ))),
        }
    }
}

/// Reads the timestamp texts either dialect may produce (with or without `T`, `Z`, fraction).
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let trimmed = text.trim_end_matches('Z');
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(trimmed, f).ok())
        .map(|n| n.and_utc())
}

/// What can go wrong in the database layer. HTTP status codes are decided elsewhere.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique or primary-key constraint refused the write.
    #[error("unique constraint violated: {0}")]
    UniqueViolation(String),
    /// A foreign-key constraint refused the write.
    #[error("foreign key constraint violated: {0}")]
    ForeignKeyViolation(String),
    /// The code asked for a query name the dialect does not ship (a bug).
    #[error("no named query `{0}` in the {1:?} catalog")]
    UnknownQuery(String, Dialect),
    /// A value read back could not be decoded (a bug or a hand-edited row).
    #[error("cannot decode result: {0}")]
    Decode(String),
    /// The statement ran past its timeout.
    #[error("query `{0}` timed out")]
    Timeout(String),
    /// The connection pool could not provide a connection in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database error.
    #[error("database error in `{query}`: {message}")]
    Database {
        /// The named query that failed.
        query: String,
        /// The driver's message (logged, never sent to clients).
        message: String,
    },
}

/// Connection-pool use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// Open connections.
    pub open: u32,
    /// Of those, idle ones.
    pub idle: u32,
}

/// Whether a transaction will write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxMode {
    /// Reads only; SQLite may use any pooled reader.
    Read,
    /// Writes; serialised with other writers.
    Write,
}

/// A database the service can run named SQL against.
#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// The catalog of this database's dialect.
    fn catalog(&self) -> &Catalog;

    /// Starts a unit of work. Dropping it without [`Tx::commit`] rolls it back.
    async fn begin(&self, mode: TxMode) -> Result<Box<dyn Tx>, StoreError>;

    /// A short description for logs (never includes a password).
    fn describe(&self) -> String;

    /// How many connections are open and how many of them idle (for `/metrics`).
    fn pool_status(&self) -> PoolStatus;
}

/// A unit of work on one connection.
#[async_trait]
pub trait Tx: Send {
    /// Runs named query `name` with `params` (in header order) and returns its rows.
    async fn query(&mut self, name: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;

    /// Runs named statement `name` with `params` and returns the number of rows affected.
    async fn execute(&mut self, name: &str, params: &[Value]) -> Result<u64, StoreError>;

    /// Runs named statement `name` once per parameter row (bulk loads); returns the
    /// rows affected in all. The default runs them one by one.
    async fn execute_many(&mut self, name: &str, rows: Vec<Vec<Value>>) -> Result<u64, StoreError> {
        let mut affected = 0;
        for params in &rows {
            affected += self.execute(name, params).await?;
        }
        Ok(affected)
    }

    /// Runs generated reporting SQL (from [`crate::odata::render`]) with positional
    /// parameters (`?1…` in SQLite, `@P1…` in T-SQL). `label` is the view file the SQL
    /// reads, named in the logs. Stops with [`StoreError::Timeout`] after `timeout`.
    async fn query_sql(
        &mut self,
        label: &'static catalog::SqlFile,
        sql: &str,
        params: &[Value],
        timeout: Duration,
    ) -> Result<Vec<Row>, StoreError>;

    /// Like [`Tx::query_sql`] but sends rows one by one into `sink` as they are read,
    /// with flat memory whatever the result size; stops early when `sink` is closed.
    async fn stream_sql(
        self: Box<Self>,
        label: &'static catalog::SqlFile,
        sql: String,
        params: Vec<Value>,
        sink: tokio::sync::mpsc::Sender<Result<Row, StoreError>>,
    ) -> Result<u64, StoreError>;

    /// Runs a whole script (a migration): every statement, or every `GO` batch in T-SQL.
    async fn run_script(&mut self, file: &'static catalog::SqlFile) -> Result<(), StoreError>;

    /// Makes the work durable.
    async fn commit(self: Box<Self>) -> Result<(), StoreError>;

    /// Undoes the work now (dropping a unit of work also undoes it, but may cost the
    /// pooled connection).
    async fn rollback(self: Box<Self>) -> Result<(), StoreError>;
}

/// Looks up a named query and checks the number of parameters the caller supplies.
pub(crate) fn named(
    catalog: &Catalog,
    name: &str,
    params: &[Value],
) -> Result<&'static catalog::SqlFile, StoreError> {
    let file = catalog
        .query(name)
        .ok_or_else(|| StoreError::UnknownQuery(name.to_string(), catalog.dialect()))?;
    if file.params.len() != params.len() {
        return Err(StoreError::Database {
            query: name.to_string(),
            message: format!(
                "expects {} parameters, got {}",
                file.params.len(),
                params.len()
            ),
        });
    }
    Ok(file)
}

/// Logs one statement run: its name, file, duration and row count (the support trail).
pub(crate) fn log_query(file: &catalog::SqlFile, started: Instant, rows: u64) {
    crate::metrics::observe_query(&file.name, started.elapsed().as_secs_f64());
    tracing::info!(
        target: "patches::sql",
        query = %file.name,
        file = %file.path,
        rows,
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "sql"
    );
}

/// A small stable hash (FNV-1a, 64-bit): view versions, query fingerprints.
pub(crate) fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Opens the database that `DATABASE_URL` names: `sqlite://PATH` or an ADO.NET string.
pub async fn connect(database_url: &str) -> Result<Arc<dyn Database>, StoreError> {
    if let Some(path) = database_url.strip_prefix("sqlite://") {
        Ok(Arc::new(sqlite::SqliteDatabase::open(path)?))
    } else {
        Ok(Arc::new(mssql::MssqlDatabase::connect(database_url).await?))
    }
}
