//! Schema migrations: the files in `sql/<dialect>/migrations/`, applied in name order,
//! each in its own transaction and recorded in `schema_migration`, so a second run does
//! nothing.

use std::collections::HashSet;

use chrono::Utc;

use super::{Catalog, Database, StoreError, TxMode, Value, catalog::SqlFile, views::ReportCatalog};

/// Applies every migration not yet recorded; returns the names applied by this call.
pub async fn run(db: &dyn Database) -> Result<Vec<String>, StoreError> {
    let mut tx = db.begin(TxMode::Write).await?;
    tx.execute("schema_migration_ensure", &[]).await?;
    tx.commit().await?;

    let mut tx = db.begin(TxMode::Read).await?;
    let applied: HashSet<String> = tx
        .query("schema_migration_list", &[])
        .await?
        .iter()
        .map(|r| r.text("name"))
        .collect::<Result<_, _>>()?;
    drop(tx);

    let mut applied_now = Vec::new();
    for migration in db.catalog().migrations() {
        if applied.contains(&migration.name) {
            continue;
        }
        let mut tx = db.begin(TxMode::Write).await?;
        tx.run_script(migration).await?;
        tx.execute(
            "schema_migration_record",
            &[
                Value::from(migration.name.as_str()),
                Value::from(Utc::now()),
            ],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(migration = %migration.name, file = %migration.path, "migration applied");
        applied_now.push(migration.name.clone());
    }
    for view in views_in_order(db.catalog()) {
        // Recorded with a hash of its text: a changed view file is applied again.
        let record = format!("view:{}:{:016x}", view.name, super::fnv1a(view.sql));
        if applied.contains(&record) {
            continue;
        }
        let mut tx = db.begin(TxMode::Write).await?;
        tx.run_script(view).await?;
        tx.execute(
            "schema_migration_record",
            &[Value::from(record.as_str()), Value::from(Utc::now())],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(view = %view.name, file = %view.path, "view created");
        applied_now.push(record);
    }
    Ok(applied_now)
}

/// The view files in the catalog's order (a view may read an earlier one).
fn views_in_order(catalog: &Catalog) -> Vec<&'static SqlFile> {
    ReportCatalog::get()
        .entity_sets
        .iter()
        .filter_map(|set| catalog.view(&set.name))
        .collect()
}
