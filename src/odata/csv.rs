//! Streaming a reporting query as CSV (RFC 4180: header row, CRLF, UTF-8, empty field
//! for null), shared by the HTTP API and `patches export`. Rows flow from the database
//! through a bounded channel, so memory stays flat whatever the result size.

use tokio::sync::mpsc;

use super::{format, query::Plan, render::Sql};
use crate::store::{Database, Row, StoreError, TxMode, catalog::SqlFile, views::EdmType};

/// Rows of a running query, read as they arrive.
pub struct RowStream {
    first: Option<Row>,
    receiver: mpsc::Receiver<Result<Row, StoreError>>,
}

impl RowStream {
    /// The next row, an error, or `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Row, StoreError>> {
        match self.first.take() {
            Some(row) => Some(Ok(row)),
            None => self.receiver.recv().await,
        }
    }
}

/// Starts `sql` on its own connection and waits for its first row, so that a failing
/// query is an error here rather than a truncated stream later.
pub async fn stream_rows(
    db: &dyn Database,
    label: &'static SqlFile,
    sql: Sql,
) -> Result<RowStream, StoreError> {
    let tx = db.begin(TxMode::Read).await?;
    let (sender, mut receiver) = mpsc::channel::<Result<Row, StoreError>>(512);
    let task = async move {
        if let Err(e) = tx
            .stream_sql(label, sql.text, sql.params, sender.clone())
            .await
        {
            let _ = sender.send(Err(e)).await;
        }
    };
    // The stream outlives its caller's await; keep the caller's span (request id) on its logs.
    tokio::spawn(tracing::Instrument::instrument(
        task,
        tracing::Span::current(),
    ));
    let first = receiver.recv().await.transpose()?;
    Ok(RowStream { first, receiver })
}

/// Writes CSV records for a plan's selected columns.
#[derive(Debug, Clone)]
pub struct CsvWriter {
    columns: Vec<(String, EdmType)>,
}

fn record(fields: impl IntoIterator<Item = String>, out: &mut Vec<u8>) {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(std::mem::take(out));
    // Writing into a Vec cannot fail.
    let _ = w.write_record(fields);
    *out = w.into_inner().unwrap_or_default();
}

impl CsvWriter {
    /// A writer for the columns `plan` selects, in order.
    pub fn new(plan: &Plan<'_>) -> Self {
        CsvWriter {
            columns: plan
                .select
                .iter()
                .map(|c| (c.name.clone(), c.edm_type))
                .collect(),
        }
    }

    /// Appends the header row.
    pub fn header(&self, out: &mut Vec<u8>) {
        record(self.columns.iter().map(|(n, _)| n.clone()), out);
    }

    /// Appends one row.
    pub fn row(&self, row: &Row, out: &mut Vec<u8>) {
        let fields = self.columns.iter().map(|(name, edm)| {
            let v = row.get(name).cloned().unwrap_or(crate::store::Value::Null);
            format::text(*edm, &v).unwrap_or_default()
        });
        record(fields, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_quotes_and_newlines_are_quoted() {
        let mut out = Vec::new();
        record(
            [
                "a,b".to_string(),
                "say \"hi\"".into(),
                "two\nlines".into(),
                String::new(),
            ],
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n"
        );
    }
}
