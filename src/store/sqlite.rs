//! The embedded default: a SQLite file in WAL mode.
//!
//! One writer connection behind an async mutex (writers queue in order instead of
//! spinning on `SQLITE_BUSY`) and a small pool of readers. Every call into SQLite runs
//! on the blocking thread pool, never on the async executor.

use std::{
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use rusqlite::{
    Connection, ErrorCode, OpenFlags,
    types::{ToSqlOutput, ValueRef},
};
use tokio::sync::{OwnedMutexGuard, OwnedSemaphorePermit, Semaphore};

use super::{
    Catalog, Database, Dialect, PoolStatus, Row, SQLITE_TIMESTAMP_FORMAT, StoreError, Tx, TxMode,
    Value, catalog::SqlFile, log_query, named,
};

const READERS: usize = 4;
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A SQLite database file with one writer and a few readers.
pub struct SqliteDatabase {
    path: String,
    catalog: Catalog,
    writer: Arc<tokio::sync::Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    reader_slots: Arc<Semaphore>,
}

fn open_connection(path: &str) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl SqliteDatabase {
    /// Opens (creating if needed) the database file at `path`, and its parent folder.
    pub fn open(path: &str) -> Result<Self, StoreError> {
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| unavailable(format!("cannot create {}: {e}", parent.display())))?;
        }
        let writer =
            open_connection(path).map_err(|e| unavailable(format!("cannot open {path}: {e}")))?;
        Ok(SqliteDatabase {
            path: path.to_string(),
            catalog: Catalog::load(Dialect::Sqlite).map_err(unavailable)?,
            writer: Arc::new(tokio::sync::Mutex::new(writer)),
            readers: Arc::new(Mutex::new(Vec::new())),
            reader_slots: Arc::new(Semaphore::new(READERS)),
        })
    }
}

#[async_trait]
impl Database for SqliteDatabase {
    fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    async fn begin(&self, mode: TxMode) -> Result<Box<dyn Tx>, StoreError> {
        let lease = match mode {
            TxMode::Write => Lease::Writer(self.writer.clone().lock_owned().await),
            TxMode::Read => {
                let permit = self
                    .reader_slots
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(unavailable)?;
                let pooled = self.readers.lock().map_err(unavailable)?.pop();
                let conn = match pooled {
                    Some(c) => c,
                    None => {
                        let path = self.path.clone();
                        tokio::task::spawn_blocking(move || open_connection(&path))
                            .await
                            .map_err(unavailable)?
                            .map_err(unavailable)?
                    }
                };
                Lease::Reader {
                    conn: Some(conn),
                    home: self.readers.clone(),
                    _permit: permit,
                }
            }
        };
        let begin = match mode {
            TxMode::Write => "BEGIN IMMEDIATE",
            TxMode::Read => "BEGIN DEFERRED",
        };
        let mut tx = SqliteTx {
            lease: Some(lease),
            catalog: self.catalog,
        };
        tx.blocking(move |conn| conn.execute_batch(begin).map_err(|e| map_error("BEGIN", e)))
            .await?;
        Ok(Box::new(tx))
    }

    fn describe(&self) -> String {
        format!("sqlite://{}", self.path)
    }

    fn pool_status(&self) -> PoolStatus {
        let readers_idle = self.readers.lock().map_or(0, |r| r.len()) as u32;
        let readers_in_use = (READERS - self.reader_slots.available_permits()) as u32;
        let writer_idle = u32::from(self.writer.try_lock().is_ok());
        PoolStatus {
            open: 1 + readers_idle + readers_in_use,
            idle: writer_idle + readers_idle,
        }
    }
}

enum Lease {
    Writer(OwnedMutexGuard<Connection>),
    Reader {
        conn: Option<Connection>,
        home: Arc<Mutex<Vec<Connection>>>,
        _permit: OwnedSemaphorePermit,
    },
}

impl Lease {
    fn conn(&mut self) -> &mut Connection {
        match self {
            Lease::Writer(guard) => guard,
            Lease::Reader { conn, .. } => {
                conn.as_mut().expect("reader connection present until drop")
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let conn = self.conn();
        if !conn.is_autocommit() {
            // An abandoned unit of work: undo it before the connection is reused.
            if let Err(e) = conn.execute_batch("ROLLBACK") {
                tracing::error!(error = %e, "rollback of abandoned transaction failed");
            }
        }
        if let Lease::Reader { conn, home, .. } = self
            && let (Some(c), Ok(mut pool)) = (conn.take(), home.lock())
        {
            pool.push(c);
        }
    }
}

struct SqliteTx {
    lease: Option<Lease>,
    catalog: Catalog,
}

impl SqliteTx {
    /// Runs `work` on the blocking pool with this transaction's connection.
    async fn blocking<T: Send + 'static>(
        &mut self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let mut lease = self
            .lease
            .take()
            .ok_or_else(|| unavailable("connection lost by an earlier failure"))?;
        let (lease, result) = tokio::task::spawn_blocking(move || {
            let result = work(lease.conn());
            (lease, result)
        })
        .await
        .map_err(unavailable)?;
        self.lease = Some(lease);
        result
    }
}

fn map_error(query: &str, e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(err, msg) = &e {
        let message = msg.clone().unwrap_or_else(|| err.to_string());
        match (err.code, err.extended_code) {
            (ErrorCode::ConstraintViolation, 1555 | 2067) => {
                return StoreError::UniqueViolation(message);
            }
            (ErrorCode::ConstraintViolation, 787) => {
                return StoreError::ForeignKeyViolation(message);
            }
            (ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked, _) => {
                return StoreError::Unavailable(message);
            }
            (ErrorCode::OperationInterrupted, _) => return StoreError::Timeout(query.to_string()),
            _ => {}
        }
    }
    StoreError::Database {
        query: query.to_string(),
        message: e.to_string(),
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Owned(rusqlite::types::Value::Null),
            Value::Uuid(u) => {
                ToSqlOutput::Owned(rusqlite::types::Value::Text(u.hyphenated().to_string()))
            }
            Value::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Int(i) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*i)),
            Value::Timestamp(t) => ToSqlOutput::Owned(rusqlite::types::Value::Text(
                t.format(SQLITE_TIMESTAMP_FORMAT).to_string(),
            )),
        })
    }
}

fn read_value(v: ValueRef<'_>) -> Result<Value, StoreError> {
    Ok(match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Text(f.to_string()),
        ValueRef::Text(t) => Value::Text(
            std::str::from_utf8(t)
                .map_err(|e| StoreError::Decode(e.to_string()))?
                .to_string(),
        ),
        ValueRef::Blob(_) => return Err(StoreError::Decode("unexpected BLOB column".into())),
    })
}

fn prepare<'c>(
    conn: &'c Connection,
    file: &SqlFile,
    params: &[Value],
) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
    let mut stmt = conn
        .prepare_cached(file.sql)
        .map_err(|e| map_error(&file.name, e))?;
    for (param, value) in file.params.iter().zip(params) {
        let placeholder = format!("@{}", param.name);
        if let Some(index) = stmt
            .parameter_index(&placeholder)
            .map_err(|e| map_error(&file.name, e))?
        {
            stmt.raw_bind_parameter(index, value)
                .map_err(|e| map_error(&file.name, e))?;
        }
    }
    Ok(stmt)
}

fn column_names(stmt: &rusqlite::Statement<'_>) -> Arc<[String]> {
    stmt.column_names().map(|c| c.to_string()).collect()
}

fn read_row(
    row: &rusqlite::Row<'_>,
    width: usize,
    file: &SqlFile,
) -> Result<Vec<Value>, StoreError> {
    (0..width)
        .map(|i| read_value(row.get_ref(i).map_err(|e| map_error(&file.name, e))?))
        .collect()
}

fn bind_positional<'c>(
    conn: &'c Connection,
    label: &SqlFile,
    sql: &str,
    params: &[Value],
) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
    let mut stmt = conn
        .prepare_cached(sql)
        .map_err(|e| map_error(&label.name, e))?;
    for (i, value) in params.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, value)
            .map_err(|e| map_error(&label.name, e))?;
    }
    Ok(stmt)
}

fn read_all(
    conn: &Connection,
    label: &SqlFile,
    sql: &str,
    params: &[Value],
) -> Result<Vec<Row>, StoreError> {
    let mut stmt = bind_positional(conn, label, sql, params)?;
    let columns = column_names(&stmt);
    let mut raw = stmt.raw_query();
    let mut rows = Vec::new();
    while let Some(row) = raw.next().map_err(|e| map_error(&label.name, e))? {
        rows.push(Row::new(
            columns.clone(),
            read_row(row, columns.len(), label)?,
        ));
    }
    Ok(rows)
}

#[async_trait]
impl Tx for SqliteTx {
    async fn query(&mut self, name: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let file = named(&self.catalog, name, params)?;
        let params = params.to_vec();
        let started = Instant::now();
        let rows = self
            .blocking(move |conn| {
                let mut stmt = prepare(conn, file, &params)?;
                let columns = column_names(&stmt);
                let mut raw = stmt.raw_query();
                let mut rows = Vec::new();
                while let Some(row) = raw.next().map_err(|e| map_error(&file.name, e))? {
                    rows.push(Row::new(
                        columns.clone(),
                        read_row(row, columns.len(), file)?,
                    ));
                }
                Ok(rows)
            })
            .await?;
        log_query(file, started, rows.len() as u64);
        Ok(rows)
    }

    async fn execute(&mut self, name: &str, params: &[Value]) -> Result<u64, StoreError> {
        let file = named(&self.catalog, name, params)?;
        let params = params.to_vec();
        let started = Instant::now();
        let affected = self
            .blocking(move |conn| {
                let mut stmt = prepare(conn, file, &params)?;
                stmt.raw_execute().map_err(|e| map_error(&file.name, e))
            })
            .await?;
        log_query(file, started, affected as u64);
        Ok(affected as u64)
    }

    async fn execute_many(&mut self, name: &str, rows: Vec<Vec<Value>>) -> Result<u64, StoreError> {
        let Some(first) = rows.first() else {
            return Ok(0);
        };
        let file = named(&self.catalog, name, first)?;
        let started = Instant::now();
        // One trip to the blocking pool for the whole batch, one prepared statement.
        let affected = self
            .blocking(move |conn| {
                let mut total = 0;
                for params in &rows {
                    if params.len() != file.params.len() {
                        return Err(StoreError::Database {
                            query: file.name.clone(),
                            message: format!(
                                "expects {} parameters, got {}",
                                file.params.len(),
                                params.len()
                            ),
                        });
                    }
                    let mut stmt = prepare(conn, file, params)?;
                    total += stmt.raw_execute().map_err(|e| map_error(&file.name, e))?;
                }
                Ok(total)
            })
            .await?;
        log_query(file, started, affected as u64);
        Ok(affected as u64)
    }

    async fn query_sql(
        &mut self,
        label: &'static SqlFile,
        sql: &str,
        params: &[Value],
        timeout: Duration,
    ) -> Result<Vec<Row>, StoreError> {
        let (sql, params) = (sql.to_string(), params.to_vec());
        let started = Instant::now();
        let rows = self
            .blocking(move |conn| {
                // SQLite checks this callback every 1000 VM steps; `true` interrupts.
                let deadline = started + timeout;
                conn.progress_handler(1000, Some(move || Instant::now() > deadline))
                    .map_err(|e| map_error(&label.name, e))?;
                let result = read_all(conn, label, &sql, &params);
                conn.progress_handler(1000, None::<fn() -> bool>)
                    .map_err(|e| map_error(&label.name, e))?;
                result
            })
            .await?;
        log_query(label, started, rows.len() as u64);
        Ok(rows)
    }

    async fn stream_sql(
        mut self: Box<Self>,
        label: &'static SqlFile,
        sql: String,
        params: Vec<Value>,
        sink: tokio::sync::mpsc::Sender<Result<Row, StoreError>>,
    ) -> Result<u64, StoreError> {
        let started = Instant::now();
        let sent = self
            .blocking(move |conn| {
                let mut stmt = bind_positional(conn, label, &sql, &params)?;
                let columns = column_names(&stmt);
                let mut raw = stmt.raw_query();
                let mut sent = 0u64;
                while let Some(row) = raw.next().map_err(|e| map_error(&label.name, e))? {
                    let row = Row::new(columns.clone(), read_row(row, columns.len(), label)?);
                    if sink.blocking_send(Ok(row)).is_err() {
                        break; // the client went away
                    }
                    sent += 1;
                }
                Ok(sent)
            })
            .await?;
        log_query(label, started, sent);
        Ok(sent)
    }

    async fn run_script(&mut self, file: &'static SqlFile) -> Result<(), StoreError> {
        let started = Instant::now();
        self.blocking(move |conn| {
            conn.execute_batch(file.sql)
                .map_err(|e| map_error(&file.name, e))
        })
        .await?;
        log_query(file, started, 0);
        Ok(())
    }

    async fn rollback(mut self: Box<Self>) -> Result<(), StoreError> {
        self.blocking(|conn| {
            if conn.is_autocommit() {
                return Ok(());
            }
            conn.execute_batch("ROLLBACK")
                .map_err(|e| map_error("ROLLBACK", e))
        })
        .await
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        self.blocking(|conn| {
            conn.execute_batch("COMMIT")
                .map_err(|e| map_error("COMMIT", e))
        })
        .await
    }
}
