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
