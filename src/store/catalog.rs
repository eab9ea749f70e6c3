//! The catalog of named SQL: every statement the service runs, read from the files in
//! `sql/<dialect>/` and `views/<dialect>/` that are embedded at build time.
//!
//! Each file starts with a header the code parses (the HugSQL/aiosql convention):
//!
//! ```sql
//! -- name: patch_get_by_id
//! -- doc: One patch or area with its responsible entities, by id.
//! -- params: @id uniqueidentifier
//! ```

use std::sync::OnceLock;

use serde::Serialize;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/sql_files.rs"));
}

/// A SQL dialect the service speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// T-SQL for SQL Server, the production target.
    Mssql,
    /// SQLite, the embedded default.
    Sqlite,
}

impl Dialect {
    /// The folder name used under `sql/` and `views/`.
    pub fn folder(self) -> &'static str {
        match self {
            Dialect::Mssql => "mssql",
            Dialect::Sqlite => "sqlite",
        }
    }
}

/// What a SQL file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SqlKind {
    /// A named query the CRUD endpoints run (`sql/<dialect>/queries/`).
    Query,
    /// A schema migration (`sql/<dialect>/migrations/`), applied in file-name order.
    Migration,
    /// A reporting view (`views/<dialect>/`).
    View,
}

/// One declared parameter of a named query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlParam {
    /// The parameter name without the `@`.
    pub name: String,
    /// Its declared SQL type, e.g. `uniqueidentifier` or `nvarchar(100)`.
    pub sql_type: String,
}

/// One shipped SQL file with its parsed header.
#[derive(Debug, Clone, Serialize)]
pub struct SqlFile {
    /// Path relative to the repository root, e.g. `sql/mssql/queries/patch_get_by_id.sql`.
    pub path: &'static str,
    /// The dialect the file is written in.
    pub dialect: Dialect,
    /// Query, migration or view.
    pub kind: SqlKind,
    /// The `-- name:` of the file; the name logs and `GET /api/v1/queries` use.
    pub name: String,
    /// The `-- doc:` lines joined into one description.
    pub doc: String,
    /// The `-- params:` in declaration order; callers bind values in this order.
    pub params: Vec<SqlParam>,
    /// The whole file, header included, exactly as shipped.
    pub sql: &'static str,
}

/// A malformed header in a shipped SQL file.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct CatalogError {
    /// The file at fault.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

fn parse_params(path: &str, text: &str) -> Result<Vec<SqlParam>, CatalogError> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("(none)") {
        return Ok(Vec::new());
    }
    // Split on commas that start a new `@name`; types such as decimal(10,2) keep theirs.
    let mut params: Vec<SqlParam> = Vec::new();
    for piece in text.split(',') {
        let piece = piece.trim();
        if let Some(rest) = piece.strip_prefix('@') {
            let (name, ty) = rest
                .split_once(char::is_whitespace)
                .ok_or_else(|| CatalogError {
                    path: path.to_string(),
                    reason: format!("parameter `{piece}` has no type"),
                })?;
            params.push(SqlParam {
                name: name.to_string(),
                sql_type: ty.trim().to_string(),
            });
        } else if let Some(last) = params.last_mut() {
            last.sql_type.push(',');
            last.sql_type.push_str(piece);
        } else {
            return Err(CatalogError {
                path: path.to_string(),
                reason: format!("parameter list must start with `@`: {text}"),
            });
        }
    }
    Ok(params)
}

/// Parses one file's header.
pub fn parse_file(path: &'static str, sql: &'static str) -> Result<SqlFile, CatalogError> {
    let err = |reason: &str| CatalogError {
        path: path.to_string(),
        reason: reason.to_string(),
    };
    let mut parts = path.split('/');
    let (top, dialect, third) = (parts.next(), parts.next(), parts.next());
    let dialect = match dialect {
        Some("mssql") => Dialect::Mssql,
        Some("sqlite") => Dialect::Sqlite,
        _ => return Err(err("dialect folder must be `mssql` or `sqlite`")),
    };
    let kind = match (top, third) {
        (Some("views"), _) => SqlKind::View,
        (Some("sql"), Some("queries")) => SqlKind::Query,
        (Some("sql"), Some("migrations")) => SqlKind::Migration,
        _ => {
            return Err(err(
                "expected sql/<dialect>/queries, sql/<dialect>/migrations or views/<dialect>",
            ));
        }
    };
    let (mut name, mut doc, mut params) = (None, Vec::new(), None);
    for line in sql.lines() {
        let Some(comment) = line.trim().strip_prefix("--") else {
            break;
        };
        let comment = comment.trim();
        if let Some(v) = comment.strip_prefix("name:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = comment.strip_prefix("doc:") {
            doc.push(v.trim().to_string());
        } else if let Some(v) = comment.strip_prefix("params:") {
            params = Some(parse_params(path, v)?);
        }
    }
    let name = name.ok_or_else(|| err("missing `-- name:` header"))?;
    let stem = path
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".sql");
    if name != stem {
        return Err(err(&format!(
            "`-- name: {name}` does not match the file name `{stem}`"
        )));
    }
    let doc = doc.join(" ");
    if doc.is_empty() {
        return Err(err("missing `-- doc:` header"));
    }
    if kind == SqlKind::Query && params.is_none() {
        return Err(err(
            "missing `-- params:` header (write `(none)` for no parameters)",
        ));
    }
    Ok(SqlFile {
        path,
        dialect,
        kind,
        name,
        doc,
        params: params.unwrap_or_default(),
        sql,
    })
}

/// Every shipped SQL file, parsed once. Fails on the first malformed header.
pub fn all_files() -> Result<&'static [SqlFile], &'static CatalogError> {
    static FILES: OnceLock<Result<Vec<SqlFile>, CatalogError>> = OnceLock::new();
    FILES
        .get_or_init(|| {
            embedded::SQL_FILES
                .iter()
                .map(|(path, sql)| parse_file(path, sql))
                .collect()
        })
        .as_ref()
        .map(Vec::as_slice)
}

/// The named SQL of one dialect.
#[derive(Debug, Clone, Copy)]
pub struct Catalog {
    dialect: Dialect,
    files: &'static [SqlFile],
}

impl Catalog {
    /// The catalog for `dialect`; fails if any shipped file has a bad header.
    pub fn load(dialect: Dialect) -> Result<Self, &'static CatalogError> {
        Ok(Catalog {
            dialect,
            files: all_files()?,
        })
    }

    /// The dialect of this catalog.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Every file of this dialect, in path order.
    pub fn files(&self) -> impl Iterator<Item = &'static SqlFile> + use<> {
        let dialect = self.dialect;
        self.files.iter().filter(move |f| f.dialect == dialect)
    }

    /// The named query `name`, if this dialect ships it.
    pub fn query(&self, name: &str) -> Option<&'static SqlFile> {
        self.files()
            .find(|f| f.kind == SqlKind::Query && f.name == name)
    }

    /// The view file of reporting entity set `name`, if this dialect ships it.
    pub fn view(&self, name: &str) -> Option<&'static SqlFile> {
        self.files()
            .find(|f| f.kind == SqlKind::View && f.name == name)
    }

    /// Migrations and view definitions in the order they are applied.
    pub fn migrations(&self) -> Vec<&'static SqlFile> {
        let mut m: Vec<_> = self
            .files()
            .filter(|f| f.kind == SqlKind::Migration)
            .collect();
        m.sort_by_key(|f| f.name.clone());
        m
    }
}

/// Splits a T-SQL script into batches on `GO` lines, as sqlcmd and SSMS do.
pub fn split_batches(sql: &str) -> Vec<String> {
    let mut batches = vec![String::new()];
    for line in sql.lines() {
        if line.trim().eq_ignore_ascii_case("go") {
            batches.push(String::new());
        } else if let Some(current) = batches.last_mut() {
            current.push_str(line);
            current.push('\n');
        }
    }
    batches
        .into_iter()
        .filter(|b| {
            b.lines()
                .any(|l| !l.trim().is_empty() && !l.trim().starts_with("--"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_keep_types_with_commas() {
        let p = parse_params(
            "x",
            "@id uniqueidentifier, @amount decimal(10,2), @name nvarchar(100)",
        )
        .unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].sql_type, "decimal(10,2)");
        assert_eq!(p[2].name, "name");
    }

    #[test]
    fn header_name_must_match_file_name() {
        let e = parse_file(
            "sql/sqlite/queries/a.sql",
            "-- name: b\n-- doc: x\n-- params: (none)\nSELECT 1",
        )
        .unwrap_err();
        assert!(e.reason.contains("does not match"));
    }

    #[test]
    fn go_lines_split_batches() {
        let b = split_batches(
            "CREATE TABLE a (x int);\nGO\n-- c\nGO\nCREATE VIEW v AS SELECT 1 AS x;\n",
        );
        assert_eq!(b.len(), 2);
    }
}
