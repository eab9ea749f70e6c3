//! `patches export EntitySet [--filter EXPR] [-o FILE]`: the same CSV as the reporting
//! API's `$format=csv`, streamed from the database to a file, with progress.

use std::{io::Write, time::Duration};

use crate::{
    odata::{
        ODataError,
        csv::{CsvWriter, stream_rows},
        query, render,
    },
    seed::Progress,
    store::{Database, StoreError, TxMode, views::ReportCatalog},
};

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The entity set or filter is not valid.
    #[error("{}: {}", .0.target.as_deref().unwrap_or("export"), .0.message)]
    Query(ODataError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The output could not be written.
    #[error("cannot write the output: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes `set` (rows matching `filter`, in the set's default order) as CSV to `out`;
/// returns the number of rows written.
pub async fn export(
    db: &dyn Database,
    set_name: &str,
    filter: Option<&str>,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let catalog = ReportCatalog::get();
    let set = catalog.entity_set(set_name).ok_or_else(|| {
        let names: Vec<&str> = catalog
            .entity_sets
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        ExportError::Query(ODataError::not_found(format!(
            "no entity set `{set_name}`; choose one of {}",
            names.join(", ")
        )))
    })?;
    let options: Vec<(String, String)> = filter
        .map(|f| vec![("$filter".to_string(), f.to_string())])
        .unwrap_or_default();
    let plan = query::plan(set, &options, true).map_err(ExportError::Query)?;
    let label = db
        .catalog()
        .view(&set.name)
        .ok_or_else(|| StoreError::UnknownQuery(set.name.clone(), db.catalog().dialect()))?;
    let dialect = db.catalog().dialect();

    // The count first, for the progress bar.
    let count = render::count(&plan, dialect);
    let mut tx = db.begin(TxMode::Read).await?;
    let total = tx
        .query_sql(label, &count.text, &count.params, Duration::from_secs(3600))
        .await?
        .first()
        .and_then(|r| r.int("n").ok())
        .unwrap_or(0);
    drop(tx);

    let mut rows = stream_rows(db, label, render::select(&plan, dialect, None, 0, None)).await?;
    let writer = CsvWriter::new(&plan);
    let mut progress = Progress::new("rows", total as u64);
    let mut buf = Vec::with_capacity(1 << 16);
    writer.header(&mut buf);
    let mut written = 0u64;
    while let Some(row) = rows.next().await {
        writer.row(&row?, &mut buf);
        written += 1;
        if buf.len() >= 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
            progress.show(written);
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    progress.show(written.max(total as u64));
    Ok(written)
}
