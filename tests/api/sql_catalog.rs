//! The shipped SQL: both dialects offer the same named queries with the same
//! parameters, every file is documented, every T-SQL batch parses with a real T-SQL
//! parser and every SQLite statement prepares against a migrated database.

use std::collections::BTreeMap;

use patches::store::catalog::{Dialect, SqlFile, SqlKind, all_files, split_batches};
use sqlparser::{dialect::MsSqlDialect, parser::Parser};

fn files() -> &'static [SqlFile] {
    all_files().unwrap_or_else(|e| panic!("malformed SQL header: {e}"))
}

fn signatures(dialect: Dialect) -> BTreeMap<(String, String), Vec<(String, String)>> {
    files()
        .iter()
        .filter(|f| f.dialect == dialect)
        .map(|f| {
            (
                (format!("{:?}", f.kind), f.name.clone()),
                f.params
                    .iter()
                    .map(|p| (p.name.clone(), p.sql_type.to_lowercase()))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn every_sql_file_has_a_name_matching_its_file_and_a_doc_line() {
    let files = files();
    assert!(
        files.len() >= 20,
        "expected the shipped SQL to be embedded, found {}",
        files.len()
    );
    for f in files {
        assert!(!f.doc.trim().is_empty(), "{} has no doc", f.path);
        assert!(f.path.ends_with(&format!("/{}.sql", f.name)), "{}", f.path);
    }
}

#[test]
fn both_dialects_offer_the_same_named_queries_with_the_same_parameters() {
    let mssql = signatures(Dialect::Mssql);
    let sqlite = signatures(Dialect::Sqlite);
    assert_eq!(
        mssql.keys().collect::<Vec<_>>(),
        sqlite.keys().collect::<Vec<_>>(),
        "the dialects ship different files"
    );
    for (key, params) in &mssql {
        assert_eq!(
            Some(params),
            sqlite.get(key),
            "parameters of {key:?} differ"
        );
    }
}

#[test]
fn every_t_sql_batch_parses_with_a_t_sql_parser() {
    let mut parsed = 0;
    for f in files().iter().filter(|f| f.dialect == Dialect::Mssql) {
        let batches = split_batches(f.sql);
        assert!(!batches.is_empty(), "{} has no statement", f.path);
        if f.kind == SqlKind::Query {
            assert_eq!(
                batches.len(),
                1,
                "{}: a named query is one batch (no GO)",
                f.path
            );
        }
        for batch in batches {
            if let Err(e) = Parser::parse_sql(&MsSqlDialect {}, &batch) {
                panic!("{} does not parse as T-SQL: {e}\n{batch}", f.path);
            }
            parsed += 1;
        }
    }
    assert!(parsed >= 20);
}

#[test]
fn t_sql_follows_house_rules() {
    for f in files().iter().filter(|f| f.dialect == Dialect::Mssql) {
        let upper = f.sql.to_uppercase();
        assert!(!upper.contains("MERGE "), "{}: no MERGE", f.path);
        assert!(
            !upper.contains(" VARCHAR(") && !upper.contains(" DATETIME "),
            "{}: use nvarchar and datetime2",
            f.path
        );
        for p in &f.params {
            assert!(
                f.sql.contains(&format!("@{}", p.name)),
                "{}: declared parameter @{} is not used",
                f.path,
                p.name
            );
        }
    }
}

#[test]
fn every_sqlite_statement_prepares_against_a_migrated_database() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let sqlite: Vec<&SqlFile> = files()
        .iter()
        .filter(|f| f.dialect == Dialect::Sqlite)
        .collect();
    let ensure = sqlite
        .iter()
        .find(|f| f.name == "schema_migration_ensure")
        .expect("ensure query");
    conn.execute_batch(ensure.sql).unwrap();
    let mut migrations: Vec<&&SqlFile> = sqlite
        .iter()
        .filter(|f| f.kind == SqlKind::Migration)
        .collect();
    migrations.sort_by_key(|f| f.name.clone());
    for m in migrations {
        conn.execute_batch(m.sql)
            .unwrap_or_else(|e| panic!("{} fails: {e}", m.path));
    }
    for q in sqlite.iter().filter(|f| f.kind == SqlKind::Query) {
        let stmt = conn
            .prepare(q.sql)
            .unwrap_or_else(|e| panic!("{} does not prepare: {e}", q.path));
        for p in &q.params {
            assert!(
                stmt.parameter_index(&format!("@{}", p.name))
                    .unwrap()
                    .is_some(),
                "{}: declared parameter @{} is not used",
                q.path,
                p.name
            );
        }
        assert_eq!(
            stmt.parameter_count(),
            q.params.len(),
            "{}: undeclared parameters",
            q.path
        );
    }
}

#[test]
fn every_entity_set_has_a_view_in_both_dialects_and_every_view_an_entity_set() {
    let catalog = patches::store::views::ReportCatalog::get();
    for dialect in [Dialect::Mssql, Dialect::Sqlite] {
        let views: Vec<&str> = files()
            .iter()
            .filter(|f| f.dialect == dialect && f.kind == SqlKind::View)
            .map(|f| f.name.as_str())
            .collect();
        let mut sets: Vec<&str> = catalog
            .entity_sets
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        let mut views_sorted = views.clone();
        sets.sort();
        views_sorted.sort();
        assert_eq!(sets, views_sorted, "{dialect:?}");
    }
    for set in &catalog.entity_sets {
        for name in set.key.iter().chain(&set.order) {
            assert!(
                set.column(name).is_some(),
                "{}: unknown key/order column {name}",
                set.name
            );
        }
        for key in &set.key {
            assert!(
                !set.column(key).unwrap().nullable,
                "{}: key {key} must not be nullable",
                set.name
            );
        }
        assert!(
            set.columns.iter().all(|c| !c.doc.is_empty()),
            "{}: undocumented column",
            set.name
        );
    }
}

#[test]
fn entity_sets_share_only_their_join_key_so_qlik_builds_no_synthetic_keys() {
    let sets = &patches::store::views::ReportCatalog::get().entity_sets;
    for (i, a) in sets.iter().enumerate() {
        for b in &sets[i + 1..] {
            let shared: Vec<&str> = a
                .columns
                .iter()
                .filter(|c| b.column(&c.name).is_some())
                .map(|c| c.name.as_str())
                .collect();
            assert!(
                shared.len() <= 1,
                "{} and {} share {shared:?}",
                a.name,
                b.name
            );
            assert!(
                shared
                    .iter()
                    .all(|s| ["patchId", "propertyRef"].contains(s)),
                "{} and {} share {shared:?}",
                a.name,
                b.name
            );
        }
    }
}

#[tokio::test]
async fn every_sqlite_view_has_exactly_the_catalog_columns_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("views.db");
    let url = format!("sqlite://{}", path.display());
    crate::helpers::fresh_database(&url).await;
    let conn = rusqlite::Connection::open(&path).unwrap();
    for set in &patches::store::views::ReportCatalog::get().entity_sets {
        let stmt = conn
            .prepare(&format!("SELECT * FROM \"{}\"", set.name))
            .unwrap();
        let actual: Vec<&str> = stmt.column_names().collect();
        let expected: Vec<&str> = set.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(actual, expected, "view {}", set.name);
    }
}
