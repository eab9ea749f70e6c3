//! Renders a query plan to parameterised SQL for each dialect. Identifiers come only
//! from the catalog (quoted); every value is a parameter (`?N` in SQLite, `@PN` in T-SQL).

use super::{
    filter::{CmpOp, Expr, Literal, MatchFn, Operand},
    query::{Plan, SortKey},
};
use crate::store::{Dialect, Value, views::EdmType};

/// SQL text and its positional parameters.
#[derive(Debug, Clone)]
pub struct Sql {
    /// The statement.
    pub text: String,
    /// Values for `?1…` / `@P1…`, in order.
    pub params: Vec<Value>,
}

struct Builder<'p> {
    dialect: Dialect,
    plan: &'p Plan<'p>,
    params: Vec<Value>,
}

impl Builder<'_> {
    fn param(&mut self, v: Value) -> String {
        self.params.push(v);
        match self.dialect {
            Dialect::Sqlite => format!("?{}", self.params.len()),
            Dialect::Mssql => format!("@P{}", self.params.len()),
        }
    }

    fn ident(&self, name: &str) -> String {
        // Names come from the catalog (letters and digits only), never from input.
        match self.dialect {
            Dialect::Sqlite => format!("\"{name}\""),
            Dialect::Mssql => format!("[{name}]"),
        }
    }

    fn edm(&self, column: &str) -> Option<EdmType> {
        self.plan.set.column(column).map(|c| c.edm_type)
    }

    /// SQLite compares text case-sensitively by default; SQL Server's default
    /// collation does not. NOCASE makes SQLite agree for ASCII text.
    fn collate(&self, is_string: bool) -> &'static str {
        match (self.dialect, is_string) {
            (Dialect::Sqlite, true) => " COLLATE NOCASE",
            _ => "",
        }
    }

    fn literal_value(&self, l: &Literal) -> Value {
        match l {
            Literal::Null => Value::Null,
            Literal::String(s) => Value::Text(s.clone()),
            Literal::Int(i) => Value::Int(*i),
            Literal::Bool(b) => Value::Int(i64::from(*b)),
            Literal::Guid(g) => Value::Uuid(*g),
            // SQLite views hold timestamps as `YYYY-MM-DDThh:mm:ssZ` text: compare as such.
            Literal::DateTime(t) => match self.dialect {
                Dialect::Sqlite => Value::Text(t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
                Dialect::Mssql => Value::Timestamp(*t),
            },
        }
    }

    fn operand(&mut self, o: &Operand) -> String {
        match o {
            Operand::Column(c) => self.ident(c),
            Operand::Literal(l) => {
                let v = self.literal_value(l);
                self.param(v)
            }
            Operand::ToLower(inner) => format!("LOWER({})", self.operand(inner)),
            Operand::ToUpper(inner) => format!("UPPER({})", self.operand(inner)),
        }
    }

    /// Whether an operand can be null (a nullable column, or a function of one).
    fn nullable(&self, o: &Operand) -> bool {
        match o {
            Operand::Column(c) => self.plan.set.column(c).is_some_and(|c| c.nullable),
            Operand::ToLower(inner) | Operand::ToUpper(inner) => self.nullable(inner),
            Operand::Literal(l) => *l == Literal::Null,
        }
    }

    /// A test that is false, not unknown, when `o` is null (so `not` negates it as OData does).
    fn two_valued(&self, o: &Operand, test: String) -> String {
        if self.nullable(o) {
            format!("(CASE WHEN {test} THEN 1 ELSE 0 END = 1)")
        } else {
            format!("({test})")
        }
    }

    fn is_string(&self, o: &Operand) -> bool {
        match o {
            Operand::Column(c) => self.edm(c) == Some(EdmType::String),
            Operand::Literal(Literal::String(_)) | Operand::ToLower(_) | Operand::ToUpper(_) => {
                true
            }
            Operand::Literal(_) => false,
        }
    }

    fn like_pattern(&self, func: MatchFn, text: &str) -> String {
        let mut escaped = String::with_capacity(text.len() + 2);
        for ch in text.chars() {
            let special =
                matches!(ch, '%' | '_' | '\\') || (self.dialect == Dialect::Mssql && ch == '[');
            if special {
                escaped.push('\\');
            }
            escaped.push(ch);
        }
        match func {
            MatchFn::Contains => format!("%{escaped}%"),
            MatchFn::StartsWith => format!("{escaped}%"),
            MatchFn::EndsWith => format!("%{escaped}"),
        }
    }

    fn expr(&mut self, e: &Expr) -> String {
        match e {
            Expr::Or(a, b) => format!("({} OR {})", self.expr(a), self.expr(b)),
            Expr::And(a, b) => format!("({} AND {})", self.expr(a), self.expr(b)),
            Expr::Not(a) => format!("(NOT {})", self.expr(a)),
            Expr::Const(true) => "(1 = 1)".into(),
            Expr::Const(false) => "(1 = 0)".into(),
            Expr::Compare(op, l, r) => {
                let (null_side, other) = match (l, r) {
                    (Operand::Literal(Literal::Null), o) | (o, Operand::Literal(Literal::Null)) => {
                        (true, o)
                    }
                    _ => (false, l),
                };
                if null_side {
                    let target = self.operand(other);
                    let test = if *op == CmpOp::Eq {
                        "IS NULL"
                    } else {
                        "IS NOT NULL"
                    };
                    return format!("({target} {test})");
                }
                let strings = self.is_string(l) || self.is_string(r);
                let collate = self.collate(strings);
                let nullable = self.nullable(l) || self.nullable(r);
                let (lhs, rhs) = (self.operand(l), self.operand(r));
                if !nullable {
                    let sym = match op {
                        CmpOp::Eq => "=",
                        CmpOp::Ne => "<>",
                        CmpOp::Gt => ">",
                        CmpOp::Ge => ">=",
                        CmpOp::Lt => "<",
                        CmpOp::Le => "<=",
                    };
                    return format!("({lhs} {sym} {rhs}{collate})");
                }
                // OData compares null as a value: null eq null, null ne 'x' are true and
                // an ordering with null is false. SQL would say "unknown" (and `not`
                // would keep it unknown), so nullable comparisons become two-valued.
                match op {
                    // Rendered only here: every placeholder must appear in the SQL.
                    CmpOp::Eq | CmpOp::Ne => {
                        let (l2, r2) = (self.operand(l), self.operand(r));
                        let (hit, miss) = if *op == CmpOp::Eq { (1, 0) } else { (0, 1) };
                        format!(
                            "(CASE WHEN {lhs} = {rhs}{collate} THEN {hit} WHEN ({l2} IS NULL AND {r2} IS NULL) THEN {hit} ELSE {miss} END = 1)"
                        )
                    }
                    other => {
                        let sym = match other {
                            CmpOp::Gt => ">",
                            CmpOp::Ge => ">=",
                            CmpOp::Lt => "<",
                            _ => "<=",
                        };
                        format!("(CASE WHEN {lhs} {sym} {rhs}{collate} THEN 1 ELSE 0 END = 1)")
                    }
                }
            }
            Expr::In(o, values) => {
                let strings = self.is_string(o);
                let target = self.operand(o);
                let list: Vec<String> = values
                    .iter()
                    .map(|v| {
                        let value = self.literal_value(v);
                        self.param(value)
                    })
                    .collect();
                let test = format!("{target}{} IN ({})", self.collate(strings), list.join(", "));
                self.two_valued(o, test)
            }
            Expr::Match(func, o, pattern) => {
                let target = self.operand(o);
                let p = self.like_pattern(*func, pattern);
                let placeholder = self.param(Value::Text(p));
                self.two_valued(o, format!("{target} LIKE {placeholder} ESCAPE '\\'"))
            }
        }
    }

    /// `(k1 > v1) OR (k1 = v1 AND k2 > v2) …` for the sort keys, NULL-aware: both
    /// dialects sort NULL first ascending and last descending.
    fn after(&mut self, keys: &[SortKey<'_>], values: &[Literal]) -> String {
        let mut disjuncts = Vec::new();
        for i in 0..keys.len() {
            let mut terms = Vec::new();
            for (key, value) in keys[..i].iter().zip(values) {
                let col = self.ident(&key.column.name);
                if *value == Literal::Null {
                    terms.push(format!("{col} IS NULL"));
                } else {
                    let v = self.literal_value(value);
                    let p = self.param(v);
                    terms.push(format!(
                        "{col} = {p}{}",
                        self.collate(key.column.edm_type == EdmType::String)
                    ));
                }
            }
            let (key, value) = (&keys[i], &values[i]);
            let col = self.ident(&key.column.name);
            let collate = self.collate(key.column.edm_type == EdmType::String);
            let strictly_after = match (key.descending, value == &Literal::Null) {
                (false, true) => Some(format!("{col} IS NOT NULL")),
                (false, false) => {
                    let v = self.literal_value(value);
                    Some(format!("{col} > {}{collate}", self.param(v)))
                }
                (true, true) => None,
                (true, false) => {
                    let v = self.literal_value(value);
                    Some(format!(
                        "({col} < {}{collate} OR {col} IS NULL)",
                        self.param(v)
                    ))
                }
            };
            if let Some(s) = strictly_after {
                terms.push(s);
                disjuncts.push(format!("({})", terms.join(" AND ")));
            }
        }
        if disjuncts.is_empty() {
            "(1 = 0)".into()
        } else {
            format!("({})", disjuncts.join(" OR "))
        }
    }

    fn view(&self) -> String {
        match self.dialect {
            Dialect::Sqlite => self.ident(&self.plan.set.name),
            Dialect::Mssql => format!("[dbo].{}", self.ident(&self.plan.set.name)),
        }
    }

    fn where_clause(&mut self, after: Option<&[Literal]>) -> String {
        let mut conditions = Vec::new();
        if let Some(f) = &self.plan.filter {
            conditions.push(self.expr(f));
        }
        if let Some(values) = after {
            let keys = self.plan.order.clone();
            conditions.push(self.after(&keys, values));
        }
        if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        }
    }

    fn order_by(&self) -> String {
        let keys: Vec<String> = self
            .plan
            .order
            .iter()
            .map(|k| {
                format!(
                    "{}{} {}",
                    self.ident(&k.column.name),
                    self.collate(k.column.edm_type == EdmType::String),
                    if k.descending { "DESC" } else { "ASC" }
                )
            })
            .collect();
        format!(" ORDER BY {}", keys.join(", "))
    }
}

/// The rows of one page (or of a whole CSV export when `take` is `None`): the plan's
/// columns plus any sort keys not selected, after `after` (a `$skiptoken`), skipping
/// `skip` rows.
pub fn select(
    plan: &Plan<'_>,
    dialect: Dialect,
    after: Option<&[Literal]>,
    skip: u64,
    take: Option<u64>,
) -> Sql {
    let mut b = Builder {
        dialect,
        plan,
        params: Vec::new(),
    };
    let columns: Vec<String> = plan
        .fetched_columns()
        .iter()
        .map(|c| b.ident(&c.name))
        .collect();
    let columns = columns.join(", ");
    let from = b.view();
    let text = match dialect {
        Dialect::Sqlite => {
            let filter = b.where_clause(after);
            let order = b.order_by();
            let limit = b.param(Value::Int(take.map_or(-1, |t| t as i64)));
            let offset = b.param(Value::Int(skip as i64));
            format!("SELECT {columns} FROM {from}{filter}{order} LIMIT {limit} OFFSET {offset}")
        }
        Dialect::Mssql => match (skip, take) {
            (0, Some(t)) => {
                let top = b.param(Value::Int(t as i64));
                let filter = b.where_clause(after);
                format!(
                    "SELECT TOP ({top}) {columns} FROM {from}{filter}{}",
                    b.order_by()
                )
            }
            (0, None) => {
                let filter = b.where_clause(after);
                format!("SELECT {columns} FROM {from}{filter}{}", b.order_by())
            }
            (s, None) => {
                let filter = b.where_clause(after);
                let order = b.order_by();
                let offset = b.param(Value::Int(s as i64));
                format!("SELECT {columns} FROM {from}{filter}{order} OFFSET {offset} ROWS")
            }
            (s, Some(t)) => {
                // TOP over an OFFSET page rather than FETCH NEXT @n: the same plan, and
                // a form T-SQL linters can parse with a parameter for the row count.
                let top = b.param(Value::Int(t as i64));
                let filter = b.where_clause(after);
                let order = b.order_by();
                let offset = b.param(Value::Int(s as i64));
                format!(
                    "SELECT TOP ({top}) {columns} FROM (SELECT {columns} FROM {from}{filter}{order} OFFSET {offset} ROWS) AS page{order}"
                )
            }
        },
    };
    Sql {
        text,
        params: b.params,
    }
}

/// The number of rows the plan's filter selects.
pub fn count(plan: &Plan<'_>, dialect: Dialect) -> Sql {
    let mut b = Builder {
        dialect,
        plan,
        params: Vec::new(),
    };
    let from = b.view();
    let filter = b.where_clause(None);
    let count = match dialect {
        Dialect::Sqlite => "COUNT(*)",
        Dialect::Mssql => "COUNT_BIG(*)",
    };
    Sql {
        text: format!("SELECT {count} AS n FROM {from}{filter}"),
        params: b.params,
    }
}
