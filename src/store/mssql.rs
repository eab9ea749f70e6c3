//! SQL Server (the production target) through `tiberius`, with a `bb8` pool.
//!
//! Named T-SQL files declare their parameters in the header (`@id uniqueidentifier`).
//! tiberius binds positional `@P1, @P2, …`, so each statement is sent as
//! `DECLARE @id uniqueidentifier = @P1, …;` followed by the file's text unchanged: the
//! SQL that runs is the SQL a DBA reads, typed exactly as the header says.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use bb8::{ManageConnection, Pool, PooledConnection};
use tiberius::{Client, ColumnData, Config, FromSql, Query, error::Error as TdsError};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use super::{
    Catalog, Database, Dialect, PoolStatus, Row, StoreError, Tx, TxMode, Value,
    catalog::{SqlFile, split_batches},
    log_query, named,
};

const POOL_SIZE: u32 = 16;
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);

/// A pooled TDS connection, whether it is inside an unfinished transaction, and
/// whether a statement on it was abandoned before its results were read.
pub struct MssqlConnection {
    client: Client<Compat<TcpStream>>,
    in_transaction: bool,
    busy: bool,
}

/// Opens TDS connections for the pool, following Azure SQL gateway redirects.
pub struct MssqlManager {
    config: Config,
}

async fn open(config: Config) -> Result<Client<Compat<TcpStream>>, TdsError> {
    let tcp = TcpStream::connect(config.get_addr()).await?;
    tcp.set_nodelay(true)?;
    match Client::connect(config.clone(), tcp.compat_write()).await {
        Err(TdsError::Routing { host, port }) => {
            let mut redirected = config;
            redirected.host(&host);
            redirected.port(port);
            let tcp = TcpStream::connect(redirected.get_addr()).await?;
            tcp.set_nodelay(true)?;
            Client::connect(redirected, tcp.compat_write()).await
        }
        other => other,
    }
}

impl ManageConnection for MssqlManager {
    type Connection = MssqlConnection;
    type Error = TdsError;

    async fn connect(&self) -> Result<MssqlConnection, TdsError> {
        Ok(MssqlConnection {
            client: open(self.config.clone()).await?,
            in_transaction: false,
            busy: false,
        })
    }

    async fn is_valid(&self, conn: &mut MssqlConnection) -> Result<(), TdsError> {
        conn.client
            .simple_query("SELECT 1")
            .await?
            .into_results()
            .await?;
        Ok(())
    }

    fn has_broken(&self, conn: &mut MssqlConnection) -> bool {
        // A connection returned mid-transaction or mid-result (a request cancelled while
        // its statement ran) is discarded; closing it makes the server roll back.
        conn.in_transaction || conn.busy
    }
}

/// A SQL Server database reached through a connection pool.
pub struct MssqlDatabase {
    pool: Pool<MssqlManager>,
    catalog: Catalog,
    describe: String,
}

fn tds_error(query: &str, e: TdsError) -> StoreError {
    if let TdsError::Server(token) = &e {
        match token.code() {
            2627 | 2601 => return StoreError::UniqueViolation(token.message().to_string()),
            547 => return StoreError::ForeignKeyViolation(token.message().to_string()),
            _ => {}
        }
    }
    StoreError::Database {
        query: query.to_string(),
        message: e.to_string(),
    }
}

impl MssqlDatabase {
    /// Builds the pool from an ADO.NET connection string and checks one connection.
    pub async fn connect(ado: &str) -> Result<Self, StoreError> {
        let config = Config::from_ado_string(ado).map_err(|e| {
            StoreError::Unavailable(format!("invalid SQL Server connection string: {e}"))
        })?;
        let describe = format!("mssql://{}", config.get_addr());
        let pool = Pool::builder()
            .max_size(POOL_SIZE)
            .connection_timeout(CHECKOUT_TIMEOUT)
            .build(MssqlManager { config })
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to {describe}: {e}")))?;
        // Fail at start-up, not on the first request, when the server is unreachable.
        pool.get()
            .await
            .map_err(|e| StoreError::Unavailable(format!("cannot connect to {describe}: {e}")))?;
        Ok(MssqlDatabase {
            pool,
            catalog: Catalog::load(Dialect::Mssql)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            describe,
        })
    }
}

#[async_trait]
impl Database for MssqlDatabase {
    fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    async fn begin(&self, mode: TxMode) -> Result<Box<dyn Tx>, StoreError> {
        let mut conn = self
            .pool
            .get_owned()
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        if mode == TxMode::Write {
            conn.in_transaction = true;
            conn.client
                .simple_query("SET XACT_ABORT ON; BEGIN TRANSACTION;")
                .await
                .map_err(|e| tds_error("BEGIN TRANSACTION", e))?
                .into_results()
                .await
                .map_err(|e| tds_error("BEGIN TRANSACTION", e))?;
        }
        Ok(Box::new(MssqlTx {
            conn,
            catalog: self.catalog,
        }))
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn pool_status(&self) -> PoolStatus {
        let state = self.pool.state();
        PoolStatus {
            open: state.connections,
            idle: state.idle_connections,
        }
    }
}

struct MssqlTx {
    conn: PooledConnection<'static, MssqlManager>,
    catalog: Catalog,
}

/// The statement as sent: typed `DECLARE`s for the header's parameters, then the file.
/// NULLs are written as `NULL` in the declaration rather than bound: tiberius sends an
/// untyped NULL parameter (TDS type 0x1F), which SQL Server accepts but Babelfish
/// rejects. Only the declared names and types (from our own files) become text.
fn statement<'a>(file: &SqlFile, params: &'a [Value]) -> (String, Vec<&'a Value>) {
    if file.params.is_empty() {
        return (file.sql.to_string(), Vec::new());
    }
    let mut bound = Vec::new();
    let declares: Vec<String> = file
        .params
        .iter()
        .zip(params)
        .map(|(p, value)| {
            if *value == Value::Null {
                format!("@{} {} = NULL", p.name, p.sql_type)
            } else {
                bound.push(value);
                format!("@{} {} = @P{}", p.name, p.sql_type, bound.len())
            }
        })
        .collect();
    (
        format!("DECLARE {};\n{}", declares.join(", "), file.sql),
        bound,
    )
}

fn bind<'a>(file: &SqlFile, params: &'a [Value]) -> Query<'a> {
    let (sql, bound) = statement(file, params);
    bind_to(Query::new(sql), bound)
}

fn bind_to<'a>(mut query: Query<'a>, params: impl IntoIterator<Item = &'a Value>) -> Query<'a> {
    for value in params {
        match value {
            Value::Null => query.bind(Option::<&str>::None),
            Value::Uuid(u) => query.bind(*u),
            Value::Text(t) => query.bind(t.as_str()),
            Value::Int(i) => query.bind(*i),
            Value::Timestamp(t) => query.bind(t.naive_utc()),
        }
    }
    query
}

fn read_value(data: &ColumnData<'static>) -> Result<Value, StoreError> {
    let decode = |e: TdsError| StoreError::Decode(e.to_string());
    Ok(match data {
        ColumnData::U8(v) => v.map_or(Value::Null, |v| Value::Int(v.into())),
        ColumnData::I16(v) => v.map_or(Value::Null, |v| Value::Int(v.into())),
        ColumnData::I32(v) => v.map_or(Value::Null, |v| Value::Int(v.into())),
        ColumnData::I64(v) => v.map_or(Value::Null, Value::Int),
        ColumnData::Bit(v) => v.map_or(Value::Null, |v| Value::Int(v.into())),
        ColumnData::F32(v) => v.map_or(Value::Null, |v| Value::Text(v.to_string())),
        ColumnData::F64(v) => v.map_or(Value::Null, |v| Value::Text(v.to_string())),
        ColumnData::String(v) => v
            .as_ref()
            .map_or(Value::Null, |s| Value::Text(s.to_string())),
        ColumnData::Guid(v) => v.map_or(Value::Null, Value::Uuid),
        ColumnData::DateTime2(_) | ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) => {
            chrono::NaiveDateTime::from_sql(data)
                .map_err(decode)?
                .map_or(Value::Null, |n| Value::Timestamp(n.and_utc()))
        }
        ColumnData::DateTimeOffset(_) => chrono::DateTime::<chrono::Utc>::from_sql(data)
            .map_err(decode)?
            .map_or(Value::Null, Value::Timestamp),
        ColumnData::Numeric(v) => v.map_or(Value::Null, |n| Value::Text(n.to_string())),
        other => {
            return Err(StoreError::Decode(format!(
                "unsupported column type {other:?}"
            )));
        }
    })
}

/// Converts tiberius rows, sharing one column-name list between them.
struct RowReader {
    columns: Option<Arc<[String]>>,
}

impl RowReader {
    fn read(&mut self, row: tiberius::Row) -> Result<Row, StoreError> {
        let columns = self
            .columns
            .get_or_insert_with(|| row.columns().iter().map(|c| c.name().to_string()).collect())
            .clone();
        let values = row
            .into_iter()
            .map(|d| read_value(&d))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Row::new(columns, values))
    }
}

async fn run_query(
    client: &mut Client<Compat<TcpStream>>,
    name: &str,
    query: Query<'_>,
) -> Result<Vec<Row>, StoreError> {
    let stream = query.query(client).await.map_err(|e| tds_error(name, e))?;
    let result = stream
        .into_first_result()
        .await
        .map_err(|e| tds_error(name, e))?;
    let mut reader = RowReader { columns: None };
    result.into_iter().map(|row| reader.read(row)).collect()
}

#[async_trait]
impl Tx for MssqlTx {
    async fn query(&mut self, name: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let file = named(&self.catalog, name, params)?;
        let started = Instant::now();
        self.conn.busy = true;
        let rows = run_query(&mut self.conn.client, name, bind(file, params)).await;
        self.conn.busy = false;
        let rows = rows?;
        log_query(file, started, rows.len() as u64);
        Ok(rows)
    }

    async fn query_sql(
        &mut self,
        label: &'static SqlFile,
        sql: &str,
        params: &[Value],
        timeout: Duration,
    ) -> Result<Vec<Row>, StoreError> {
        let started = Instant::now();
        let query = bind_to(Query::new(sql.to_string()), params);
        self.conn.busy = true;
        let run = run_query(&mut self.conn.client, &label.name, query);
        let rows = match tokio::time::timeout(timeout, run).await {
            Ok(rows) => {
                self.conn.busy = false;
                rows?
            }
            Err(_) => {
                // The connection is mid-statement; discard it so the server cancels.
                self.conn.in_transaction = true;
                return Err(StoreError::Timeout(label.name.clone()));
            }
        };
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
        use futures_util::TryStreamExt;
        let started = Instant::now();
        self.conn.busy = true;
        let query = bind_to(Query::new(sql), &params);
        let stream = query
            .query(&mut self.conn.client)
            .await
            .map_err(|e| tds_error(&label.name, e))?;
        let mut rows = stream.into_row_stream();
        let mut reader = RowReader { columns: None };
        let mut sent = 0u64;
        let mut abandoned = false;
        while let Some(row) = rows
            .try_next()
            .await
            .map_err(|e| tds_error(&label.name, e))?
        {
            if sink.send(Ok(reader.read(row)?)).await.is_err() {
                abandoned = true; // the client went away
                break;
            }
            sent += 1;
        }
        drop(rows);
        self.conn.busy = abandoned;
        if abandoned {
            // The connection is mid-result: discard it rather than reuse it.
            self.conn.in_transaction = true;
        }
        log_query(label, started, sent);
        Ok(sent)
    }

    async fn execute(&mut self, name: &str, params: &[Value]) -> Result<u64, StoreError> {
        let file = named(&self.catalog, name, params)?;
        let started = Instant::now();
        self.conn.busy = true;
        let result = bind(file, params).execute(&mut self.conn.client).await;
        self.conn.busy = false;
        let affected = result.map_err(|e| tds_error(name, e))?.total();
        log_query(file, started, affected);
        Ok(affected)
    }

    async fn run_script(&mut self, file: &'static SqlFile) -> Result<(), StoreError> {
        let started = Instant::now();
        for batch in split_batches(file.sql) {
            self.conn
                .client
                .simple_query(batch)
                .await
                .map_err(|e| tds_error(&file.name, e))?
                .into_results()
                .await
                .map_err(|e| tds_error(&file.name, e))?;
        }
        log_query(file, started, 0);
        Ok(())
    }

    async fn rollback(mut self: Box<Self>) -> Result<(), StoreError> {
        if !self.conn.in_transaction {
            return Ok(());
        }
        // XACT_ABORT may already have rolled back; only roll back what is open.
        self.conn
            .client
            .simple_query("IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;")
            .await
            .map_err(|e| tds_error("ROLLBACK", e))?
            .into_results()
            .await
            .map_err(|e| tds_error("ROLLBACK", e))?;
        self.conn.in_transaction = false;
        Ok(())
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        if !self.conn.in_transaction {
            return Ok(());
        }
        self.conn
            .client
            .simple_query("COMMIT TRANSACTION;")
            .await
            .map_err(|e| tds_error("COMMIT", e))?
            .into_results()
            .await
            .map_err(|e| tds_error("COMMIT", e))?;
        self.conn.in_transaction = false;
        Ok(())
    }
}
