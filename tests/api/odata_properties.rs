//! Property tests of the OData renderer: random valid `$filter` expressions render to
//! SQL that SQLite accepts and that selects exactly the rows an evaluation of the AST
//! in Rust selects, over the same data. Also: random input never panics the parser.

use std::collections::BTreeSet;

use patches::{
    domain::{
        Actor, DomainCode, EntityName, PatchContent, PatchName, PatchType, ResponsibleEntity,
        ResponsibleType,
    },
    odata::{
        filter::{self, CmpOp, Expr, Literal, MatchFn, Operand},
        query, render,
    },
    store::{
        Database, Row, TxMode, Value,
        catalog::SqlKind,
        patches::{NewPatch, PatchStore},
        views::{EdmType, ReportCatalog},
    },
};
use uuid::Uuid;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NAMES: &[&str] = &[
    "CP1",
    "cp2",
    "Clapton",
    "Dalston Lane",
    "HX_1",
    "Hoxton%",
    "zeta",
    "Åre",
    "ALPHA",
    "alpha2",
    "Mid",
];

async fn seeded_store() -> (tempfile::TempDir, PatchStore) {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::helpers::fresh_database(&format!("sqlite://{}/props.db", dir.path().display()))
        .await;
    let store = PatchStore::new(db);
    let actor = Actor { id: "props".into() };
    let mut parents: Vec<Uuid> = Vec::new();
    let mut rng = Rng(7);
    for (i, name) in NAMES.iter().cycle().take(40).enumerate() {
        let parent = if parents.is_empty() || rng.below(4) == 0 {
            None
        } else {
            Some(*rng.pick(&parents))
        };
        let entities: Vec<ResponsibleEntity> = (0..rng.below(3))
            .map(|j| ResponsibleEntity {
                id: Uuid::new_v4(),
                name: EntityName::parse(&format!("{} {j}", rng.pick(NAMES))).unwrap(),
                responsible_type: *rng.pick(&[
                    ResponsibleType::HousingOfficer,
                    ResponsibleType::HousingAreaManager,
                    ResponsibleType::Group,
                ]),
                email_address: None,
            })
            .collect();
        let kind = if i % 3 == 0 {
            PatchType::Area
        } else {
            PatchType::Patch
        };
        let new = NewPatch {
            id: None,
            content: PatchContent {
                parent_id: parent,
                name: PatchName::parse(&format!("{name}{}", i / NAMES.len())).unwrap(),
                patch_type: kind,
                domain: DomainCode::parse(rng.pick::<&str>(&["MMH", "MA", "mmh"])).unwrap(),
                responsible_entities: entities,
            },
        };
        let p = store.create(&new, &actor).await.unwrap();
        parents.push(p.id);
    }
    (dir, store)
}

#[derive(Debug, Clone, PartialEq)]
enum V {
    Str(String),
    Int(i64),
}

fn column_value(row: &Row, name: &str) -> Option<V> {
    match row.get(name).unwrap() {
        Value::Null => None,
        Value::Int(i) => Some(V::Int(*i)),
        Value::Text(t) => Some(V::Str(t.clone())),
        Value::Uuid(u) => Some(V::Str(u.to_string())),
        Value::Timestamp(t) => Some(V::Str(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())),
    }
}

fn literal_value(l: &Literal) -> Option<V> {
    match l {
        Literal::Null => None,
        Literal::String(s) => Some(V::Str(s.clone())),
        Literal::Int(i) => Some(V::Int(*i)),
        Literal::Bool(b) => Some(V::Int(i64::from(*b))),
        Literal::Guid(g) => Some(V::Str(g.to_string())),
        Literal::DateTime(t) => Some(V::Str(t.format("%Y-%m-%dT%H:%M:%SZ").to_string())),
    }
}

fn operand(row: &Row, o: &Operand) -> Option<V> {
    match o {
        Operand::Column(c) => column_value(row, c),
        Operand::Literal(l) => literal_value(l),
        // SQLite's LOWER/UPPER fold ASCII only.
        Operand::ToLower(i) => match operand(row, i)? {
            V::Str(s) => Some(V::Str(s.to_ascii_lowercase())),
            other => Some(other),
        },
        Operand::ToUpper(i) => match operand(row, i)? {
            V::Str(s) => Some(V::Str(s.to_ascii_uppercase())),
            other => Some(other),
        },
    }
}

/// Case-insensitive for ASCII, as SQL Server's default collation and SQLite NOCASE.
fn cmp(a: &V, b: &V) -> std::cmp::Ordering {
    match (a, b) {
        (V::Str(x), V::Str(y)) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
        (V::Int(x), V::Int(y)) => x.cmp(y),
        _ => panic!("type-checked expressions never compare {a:?} with {b:?}"),
    }
}

/// OData's two-valued evaluation: null is a value for `eq`/`ne`, and any other test
/// involving null is false (so `not` turns it true).
fn eval(row: &Row, e: &Expr) -> bool {
    match e {
        Expr::Const(b) => *b,
        Expr::Not(a) => !eval(row, a),
        Expr::And(a, b) => eval(row, a) && eval(row, b),
        Expr::Or(a, b) => eval(row, a) || eval(row, b),
        Expr::Compare(op, l, r) => {
            let (a, b) = (operand(row, l), operand(row, r));
            match (op, &a, &b) {
                (CmpOp::Eq, None, None) => true,
                (CmpOp::Ne, None, None) => false,
                (CmpOp::Eq, _, _) if a.is_none() || b.is_none() => false,
                (CmpOp::Ne, _, _) if a.is_none() || b.is_none() => true,
                (_, Some(a), Some(b)) => {
                    let o = cmp(a, b);
                    match op {
                        CmpOp::Eq => o.is_eq(),
                        CmpOp::Ne => o.is_ne(),
                        CmpOp::Gt => o.is_gt(),
                        CmpOp::Ge => o.is_ge(),
                        CmpOp::Lt => o.is_lt(),
                        CmpOp::Le => o.is_le(),
                    }
                }
                _ => false,
            }
        }
        Expr::In(o, values) => match operand(row, o) {
            Some(a) => values
                .iter()
                .filter_map(literal_value)
                .any(|v| cmp(&a, &v).is_eq()),
            None => false,
        },
        Expr::Match(f, o, pattern) => {
            let Some(V::Str(s)) = operand(row, o) else {
                return false;
            };
            let (s, p) = (s.to_ascii_lowercase(), pattern.to_ascii_lowercase());
            match f {
                MatchFn::Contains => s.contains(&p),
                MatchFn::StartsWith => s.starts_with(&p),
                MatchFn::EndsWith => s.ends_with(&p),
            }
        }
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A random, well-typed filter over the Patches set, using values from the data.
fn random_filter(rng: &mut Rng, rows: &[Row], depth: usize) -> String {
    let strings = [
        "patchName",
        "patchType",
        "patchDomain",
        "areaName",
        "parentPatchName",
        "leadOfficerName",
    ];
    let ints = ["responsibleEntityCount", "patchVersionNumber"];
    let guids = ["patchId", "parentPatchId", "areaId"];
    let sample = |rng: &mut Rng, col: &str| -> Option<V> { column_value(rng.pick(rows), col) };
    if depth > 0 && rng.below(3) == 0 {
        let a = random_filter(rng, rows, depth - 1);
        let b = random_filter(rng, rows, depth - 1);
        return match rng.below(3) {
            0 => format!("({a}) and ({b})"),
            1 => format!("({a}) or ({b})"),
            _ => format!("not ({a})"),
        };
    }
    match rng.below(7) {
        0 | 1 => {
            let col = *rng.pick(&strings);
            let target = match rng.below(4) {
                0 => format!("tolower({col})"),
                1 => format!("toupper({col})"),
                _ => col.to_string(),
            };
            let value = match sample(rng, col) {
                Some(V::Str(s)) if rng.below(3) > 0 => s,
                _ => rng.pick(NAMES).to_string(),
            };
            let op = rng.pick(&["eq", "ne", "gt", "ge", "lt", "le"]);
            format!("{target} {op} {}", quote(&value))
        }
        2 => {
            let col = *rng.pick(&strings);
            let value = match sample(rng, col) {
                Some(V::Str(s)) => s,
                _ => "x".into(),
            };
            let cut = rng.below(value.chars().count().max(1)) + 1;
            let part: String = value.chars().skip(rng.below(2)).take(cut).collect();
            let f = rng.pick(&["contains", "startswith", "endswith"]);
            format!("{f}({col}, {})", quote(&part))
        }
        3 => {
            let col = *rng.pick(&ints);
            let value = match sample(rng, col) {
                Some(V::Int(i)) => i + rng.below(3) as i64 - 1,
                _ => 1,
            };
            format!(
                "{col} {} {value}",
                rng.pick(&["eq", "ne", "gt", "ge", "lt", "le"])
            )
        }
        4 => {
            let col = *rng.pick(&guids);
            match sample(rng, col) {
                Some(V::Str(g)) => format!("{col} {} {g}", rng.pick(&["eq", "ne"])),
                _ => format!("{col} {} null", rng.pick(&["eq", "ne"])),
            }
        }
        5 => {
            let col = *rng.pick(&strings);
            let values: Vec<String> = (0..rng.below(3) + 1)
                .map(|_| match sample(rng, col) {
                    Some(V::Str(s)) => quote(&s),
                    _ => quote("none"),
                })
                .collect();
            format!("{col} in ({})", values.join(", "))
        }
        _ => {
            let col = *rng.pick(&[
                "areaName",
                "leadOfficerName",
                "parentPatchId",
                "areaManagerEmail",
            ]);
            format!("{col} {} null", rng.pick(&["eq", "ne"]))
        }
    }
}

#[tokio::test]
async fn random_filters_select_the_same_rows_in_sqlite_as_in_rust() {
    let (_dir, store) = seeded_store().await;
    let db: &dyn Database = store.database().as_ref();
    let set = ReportCatalog::get().entity_set("Patches").unwrap();
    let label = db
        .catalog()
        .files()
        .find(|f| f.kind == SqlKind::View && f.name == "Patches")
        .unwrap();
    let all_plan = query::plan(set, &[], false).unwrap();
    let all_sql = render::select(&all_plan, db.catalog().dialect(), None, 0, None);
    let mut tx = db.begin(TxMode::Read).await.unwrap();
    let rows = tx
        .query_sql(
            label,
            &all_sql.text,
            &all_sql.params,
            std::time::Duration::from_secs(10),
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 40);

    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut non_trivial = 0;
    for case in 0..400 {
        let text = random_filter(&mut rng, &rows, 3);
        let expr = filter::parse(&text, set)
            .unwrap_or_else(|e| panic!("case {case}: generated `{text}` is invalid: {e:?}"));
        let expected: BTreeSet<String> = rows
            .iter()
            .filter(|r| eval(r, &expr))
            .map(|r| r.text("patchId").unwrap())
            .collect();
        let plan = query::plan(set, &[("$filter".to_string(), text.clone())], false).unwrap();
        let sql = render::select(&plan, db.catalog().dialect(), None, 0, None);
        let got: BTreeSet<String> = tx
            .query_sql(
                label,
                &sql.text,
                &sql.params,
                std::time::Duration::from_secs(10),
            )
            .await
            .unwrap_or_else(|e| panic!("case {case}: `{text}` → {}: {e}", sql.text))
            .iter()
            .map(|r| r.text("patchId").unwrap())
            .collect();
        assert_eq!(got, expected, "case {case}: `{text}`\nSQL: {}", sql.text);
        if !expected.is_empty() && expected.len() < rows.len() {
            non_trivial += 1;
        }
    }
    assert!(
        non_trivial > 100,
        "the generator must exercise selective filters ({non_trivial})"
    );
}

#[test]
fn random_input_never_panics_the_parser() {
    let set = ReportCatalog::get().entity_set("Patches").unwrap();
    let pieces = [
        "patchName",
        "eq",
        "ne",
        "and",
        "or",
        "not",
        "(",
        ")",
        "'",
        "''",
        ",",
        "in",
        "null",
        "contains(",
        "tolower(",
        " ",
        "1",
        "-",
        "2026-01-05",
        "T10:00Z",
        "6f1c3c8e-2b1a-4b8f-9a53-0f5b6a6c2d11",
        "$",
        "/",
        "é",
        "\u{0}",
        "9999999999999999999999",
    ];
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let mut s = String::new();
        for _ in 0..rng.below(12) {
            if rng.below(5) == 0 {
                s.push(char::from_u32(rng.below(0x3000) as u32).unwrap_or('x'));
            } else {
                s.push_str(rng.pick::<&str>(&pieces));
            }
        }
        let _ = filter::parse(&s, set);
        let _ = query::plan(
            set,
            &[
                ("$orderby".into(), s.clone()),
                ("$select".into(), s.clone()),
            ],
            false,
        );
        let _ = query::plan(set, &[("$skiptoken".into(), s)], false);
    }
}

#[test]
fn rendered_t_sql_parses_with_a_t_sql_parser() {
    use sqlparser::{dialect::MsSqlDialect, parser::Parser};
    let mut rng = Rng(3);
    for set in &ReportCatalog::get().entity_sets {
        let filters: Vec<String> = set
            .columns
            .iter()
            .map(|c| match c.edm_type {
                EdmType::String => format!(
                    "contains(tolower({}), 'a[b%') or {} in ('x', 'y') or {} eq null",
                    c.name, c.name, c.name
                ),
                EdmType::Guid => format!("{} eq 6f1c3c8e-2b1a-4b8f-9a53-0f5b6a6c2d11", c.name),
                EdmType::Int32 | EdmType::Int64 => format!("{} ge {}", c.name, rng.below(10)),
                EdmType::DateTimeOffset => format!("{} lt 2026-01-05T10:00:00Z", c.name),
                EdmType::Boolean => format!("{} eq true", c.name),
            })
            .collect();
        let filter = filters.join(" and ");
        let plan = query::plan(
            set,
            &[("$filter".into(), filter), ("$count".into(), "true".into())],
            false,
        )
        .unwrap();
        let row_values: Vec<Literal> = plan.order.iter().map(|_| Literal::Null).collect();
        for sql in [
            render::select(&plan, patches::store::Dialect::Mssql, None, 0, Some(100)),
            render::select(
                &plan,
                patches::store::Dialect::Mssql,
                Some(&row_values),
                0,
                Some(100),
            ),
            render::select(&plan, patches::store::Dialect::Mssql, None, 0, None),
            render::select(&plan, patches::store::Dialect::Mssql, None, 5, Some(100)),
            render::count(&plan, patches::store::Dialect::Mssql),
        ] {
            Parser::parse_sql(&MsSqlDialect {}, &sql.text)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", set.name, sql.text));
        }
    }
}
