//! `$filter`: text → tokens → a typed AST checked against an entity set's columns.
//!
//! Precedence, loosest first: `or`, `and`, `not`, comparisons (`eq ne gt ge lt le in`),
//! then primaries (parentheses, functions, properties, literals). Keywords end at a
//! word boundary, so a property called `notes` is a property, not `not es`.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::ODataError;
use crate::store::views::{EdmType, EntitySet};

/// The longest `$filter` accepted, in bytes.
pub const MAX_FILTER_LEN: usize = 4000;
/// The deepest nesting of parentheses, `not`s and functions accepted.
pub const MAX_DEPTH: usize = 32;
/// The most values in one `in (…)` list.
pub const MAX_IN_VALUES: usize = 500;
/// The most nodes in one expression.
pub const MAX_NODES: usize = 1000;

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null`.
    Null,
    /// `'text'`.
    String(String),
    /// A whole number.
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
    /// A GUID, unquoted.
    Guid(Uuid),
    /// A date (`2026-01-05`, midnight UTC) or date-time (`2026-01-05T10:00:00Z`).
    DateTime(DateTime<Utc>),
}

/// Something compared: a property, a literal, or a case function of one.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A column of the entity set.
    Column(String),
    /// A literal.
    Literal(Literal),
    /// `tolower(x)`.
    ToLower(Box<Operand>),
    /// `toupper(x)`.
    ToUpper(Box<Operand>),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

/// A string-matching function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchFn {
    /// `contains(x, 'p')`
    Contains,
    /// `startswith(x, 'p')`
    StartsWith,
    /// `endswith(x, 'p')`
    EndsWith,
}

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a or b`
    Or(Box<Expr>, Box<Expr>),
    /// `a and b`
    And(Box<Expr>, Box<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `x op y`; with a `null` side only `eq`/`ne`.
    Compare(CmpOp, Operand, Operand),
    /// `x in (v1, v2, …)`
    In(Operand, Vec<Literal>),
    /// `contains` / `startswith` / `endswith` with a literal pattern.
    Match(MatchFn, Operand, String),
    /// `true` / `false` as a whole condition.
    Const(bool),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Int(i64),
    Guid(Uuid),
    DateTime(DateTime<Utc>),
    Open,
    Close,
    Comma,
}

fn err(message: impl Into<String>) -> ODataError {
    ODataError::bad_request("$filter", message)
}

fn not_implemented(message: impl Into<String>) -> ODataError {
    ODataError::not_implemented("$filter", message)
}

fn is_guid_at(b: &[u8]) -> bool {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let mut i = 0;
    for (g, len) in GROUPS.iter().enumerate() {
        for _ in 0..*len {
            if !b.get(i).is_some_and(u8::is_ascii_hexdigit) {
                return false;
            }
            i += 1;
        }
        if g < 4 {
            if b.get(i) != Some(&b'-') {
                return false;
            }
            i += 1;
        }
    }
    !b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// Reads a date or date-time literal at the start of `s`; returns it and its length.
/// Only years 1–9999 in UTC, the range both databases store.
fn date_at(s: &str) -> Option<(DateTime<Utc>, usize)> {
    use chrono::Datelike;
    date_text_at(s).filter(|(t, _)| (1..=9999).contains(&t.year()))
}

fn date_text_at(s: &str) -> Option<(DateTime<Utc>, usize)> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    if !(digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10))
    {
        return None;
    }
    let end = s[10..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '+' | '-')))
        .map_or(s.len(), |e| e + 10);
    let text = &s[..end];
    if end == 10 {
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        return Some((date.and_hms_opt(0, 0, 0)?.and_utc(), end));
    }
    let rfc = if text.len() == 16 || text.chars().filter(|c| *c == ':').count() == 1 {
        // hh:mm without seconds: OData allows it; add them for the RFC 3339 parser.
        let (dt, zone) = text.split_at(16.min(text.len()));
        format!("{dt}:00{zone}")
    } else {
        text.to_string()
    };
    DateTime::parse_from_rfc3339(&rfc)
        .ok()
        .map(|t| (t.with_timezone(&Utc), end))
}

fn lex(input: &str) -> Result<Vec<Tok>, ODataError> {
    let mut toks = Vec::new();
    let mut i = 0;
    let bytes = input.as_bytes();
    while i < bytes.len() {
        let c = bytes[i];
        let rest = &input[i..];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'(' => {
                toks.push(Tok::Open);
                i += 1;
            }
            b')' => {
                toks.push(Tok::Close);
                i += 1;
            }
            b',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            b'\'' => {
                let mut value = String::new();
                let mut j = i + 1;
                loop {
                    match input[j..].find('\'') {
                        None => {
                            return Err(err(format!(
                                "unterminated string starting at position {}",
                                i + 1
                            )));
                        }
                        Some(k) => {
                            value.push_str(&input[j..j + k]);
                            j += k + 1;
                            if bytes.get(j) == Some(&b'\'') {
                                value.push('\'');
                                j += 1;
                            } else {
                                break;
                            }
                        }
                    }
                }
                toks.push(Tok::Str(value));
                i = j;
            }
            _ if c.is_ascii_hexdigit() && is_guid_at(&bytes[i..]) => {
                let g = Uuid::parse_str(&rest[..36]).map_err(|_| err("malformed GUID"))?;
                toks.push(Tok::Guid(g));
                i += 36;
            }
            _ if c.is_ascii_digit() && date_at(rest).is_some() => {
                let (t, len) = date_at(rest).ok_or_else(|| err("malformed date"))?;
                toks.push(Tok::DateTime(t));
                i += len;
            }
            b'0'..=b'9' | b'-' if c != b'-' || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let start = i;
                i += 1;
                while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                if bytes.get(i) == Some(&b'.')
                    || bytes.get(i).is_some_and(|b| b.is_ascii_alphabetic())
                {
                    return Err(err(format!(
                        "only whole numbers are supported, at position {}",
                        start + 1
                    )));
                }
                let n = input[start..i]
                    .parse::<i64>()
                    .map_err(|_| err(format!("number out of range at position {}", start + 1)))?;
                toks.push(Tok::Int(n));
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while bytes
                    .get(i)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(*b, b'_' | b'.' | b'/'))
                {
                    i += 1;
                }
                toks.push(Tok::Word(input[start..i].to_string()));
            }
            _ => {
                let ch = rest.chars().next().unwrap_or('?');
                return Err(err(format!(
                    "unexpected character `{ch}` at position {}",
                    i + 1
                )));
            }
        }
    }
    Ok(toks)
}

/// Functions of OData v4 this service does not offer: they answer 501, not 400.
const UNSUPPORTED_FUNCTIONS: &[&str] = &[
    "length",
    "indexof",
    "substring",
    "trim",
    "concat",
    "matchespattern",
    "year",
    "month",
    "day",
    "hour",
    "minute",
    "second",
    "fractionalseconds",
    "totalseconds",
    "date",
    "time",
    "totaloffsetminutes",
    "mindatetime",
    "maxdatetime",
    "now",
    "round",
    "floor",
    "ceiling",
    "cast",
    "isof",
    "case",
    "substringof",
    "hassubset",
    "hassubsequence",
];
const UNSUPPORTED_OPERATORS: &[&str] = &["add", "sub", "mul", "div", "divby", "mod", "has"];

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    set: &'a EntitySet,
    depth: usize,
    nodes: usize,
}

fn word_is(t: Option<&Tok>, w: &str) -> bool {
    matches!(t, Some(Tok::Word(x)) if x.eq_ignore_ascii_case(w))
}

/// The type an operand has: a column's type, a literal's, or String for case functions.
fn operand_type(set: &EntitySet, o: &Operand) -> Option<EdmType> {
    match o {
        Operand::Column(c) => set.column(c).map(|c| c.edm_type),
        Operand::ToLower(_) | Operand::ToUpper(_) => Some(EdmType::String),
        Operand::Literal(l) => match l {
            Literal::Null => None,
            Literal::String(_) => Some(EdmType::String),
            Literal::Int(_) => Some(EdmType::Int64),
            Literal::Bool(_) => Some(EdmType::Boolean),
            Literal::Guid(_) => Some(EdmType::Guid),
            Literal::DateTime(_) => Some(EdmType::DateTimeOffset),
        },
    }
}

fn compatible(a: EdmType, b: EdmType) -> bool {
    use EdmType::*;
    matches!((a, b), (Int32 | Int64, Int32 | Int64)) || a == b
}

fn describe(t: Option<EdmType>) -> &'static str {
    t.map_or("null", EdmType::edm_name)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), ODataError> {
        match self.next() {
            Some(t) if t == tok => Ok(()),
            Some(t) => Err(err(format!("expected {what}, found {}", show(&t)))),
            None => Err(err(format!("expected {what}, found the end of the filter"))),
        }
    }

    fn enter(&mut self) -> Result<(), ODataError> {
        self.depth += 1;
        self.nodes += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        if self.nodes > MAX_NODES {
            return Err(err(format!("more than {MAX_NODES} terms")));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ODataError> {
        let mut left = self.and()?;
        while word_is(self.peek(), "or") {
            self.next();
            self.enter()?;
            let right = self.and()?;
            self.depth -= 1;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ODataError> {
        let mut left = self.not()?;
        while word_is(self.peek(), "and") {
            self.next();
            self.enter()?;
            let right = self.not()?;
            self.depth -= 1;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ODataError> {
        if word_is(self.peek(), "not") {
            self.next();
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ODataError> {
        // A parenthesised boolean expression.
        if self.peek() == Some(&Tok::Open) {
            self.next();
            self.enter()?;
            let inner = self.or()?;
            self.depth -= 1;
            self.expect(Tok::Close, "`)`")?;
            return Ok(inner);
        }
        if let Some(Tok::Word(w)) = self.peek() {
            let lower = w.to_ascii_lowercase();
            let func = match lower.as_str() {
                "contains" => Some(MatchFn::Contains),
                "startswith" => Some(MatchFn::StartsWith),
                "endswith" => Some(MatchFn::EndsWith),
                _ => None,
            };
            if let Some(func) = func {
                self.next();
                self.enter()?;
                self.expect(Tok::Open, "`(` after the function name")?;
                let target = self.operand()?;
                self.expect(Tok::Comma, "`,`")?;
                let pattern = match self.next() {
                    Some(Tok::Str(s)) => s,
                    _ => {
                        return Err(err(format!(
                            "the second argument of {lower} must be a string literal"
                        )));
                    }
                };
                self.expect(Tok::Close, "`)`")?;
                self.depth -= 1;
                if operand_type(self.set, &target) != Some(EdmType::String) {
                    return Err(err(format!(
                        "{lower} needs a string property as its first argument"
                    )));
                }
                return Ok(Expr::Match(func, target, pattern));
            }
            if (lower == "true" || lower == "false")
                && !matches!(self.toks.get(self.pos + 1), Some(Tok::Word(op)) if is_comparison(op))
            {
                self.next();
                return Ok(Expr::Const(lower == "true"));
            }
        }
        let left = self.operand()?;
        let op = match self.next() {
            Some(Tok::Word(w)) => w,
            Some(t) => {
                return Err(err(format!(
                    "expected an operator such as eq, found {}",
                    show(&t)
                )));
            }
            None => {
                return Err(err(
                    "expected an operator such as eq, found the end of the filter",
                ));
            }
        };
        let lower = op.to_ascii_lowercase();
        if UNSUPPORTED_OPERATORS.contains(&lower.as_str()) {
            return Err(not_implemented(format!(
                "the `{lower}` operator is not supported"
            )));
        }
        if lower == "in" {
            return self.in_list(left);
        }
        let cmp = match lower.as_str() {
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            _ => {
                return Err(err(format!(
                    "unknown operator `{op}`; use eq, ne, gt, ge, lt, le or in"
                )));
            }
        };
        let right = self.operand()?;
        self.check_comparison(cmp, &left, &right)?;
        Ok(Expr::Compare(cmp, left, right))
    }

    fn in_list(&mut self, left: Operand) -> Result<Expr, ODataError> {
        self.expect(Tok::Open, "`(` after in")?;
        let mut values = Vec::new();
        loop {
            match self.next() {
                Some(t) => values.push(literal(t)?),
                None => return Err(err("unterminated in (…) list")),
            }
            if values.len() > MAX_IN_VALUES {
                return Err(err(format!(
                    "more than {MAX_IN_VALUES} values in an in (…) list"
                )));
            }
            match self.next() {
                Some(Tok::Comma) => continue,
                Some(Tok::Close) => break,
                _ => return Err(err("expected `,` or `)` in an in (…) list")),
            }
        }
        let column_type = operand_type(self.set, &left);
        if matches!(left, Operand::Literal(_)) {
            return Err(err("the left side of in must be a property"));
        }
        for v in &values {
            let t = operand_type(self.set, &Operand::Literal(v.clone()));
            match (column_type, t) {
                (_, None) => return Err(err("null cannot be in an in (…) list; use `eq null`")),
                (Some(a), Some(b)) if compatible(a, b) => {}
                _ => {
                    return Err(err(format!(
                        "in (…) mixes {} with {}",
                        describe(column_type),
                        describe(t)
                    )));
                }
            }
        }
        Ok(Expr::In(left, values))
    }

    fn check_comparison(
        &self,
        op: CmpOp,
        left: &Operand,
        right: &Operand,
    ) -> Result<(), ODataError> {
        if matches!((left, right), (Operand::Literal(_), Operand::Literal(_))) {
            return Err(err("a comparison needs at least one property"));
        }
        let (lt, rt) = (operand_type(self.set, left), operand_type(self.set, right));
        match (lt, rt) {
            (None, None) => Err(err("cannot compare null with null")),
            (None, Some(_)) | (Some(_), None) => {
                if matches!(op, CmpOp::Eq | CmpOp::Ne) {
                    Ok(())
                } else {
                    Err(err("null can only be compared with eq or ne"))
                }
            }
            (Some(a), Some(b)) if !compatible(a, b) => Err(err(format!(
                "cannot compare {} with {}",
                a.edm_name(),
                b.edm_name()
            ))),
            (Some(EdmType::Guid | EdmType::Boolean), _) if !matches!(op, CmpOp::Eq | CmpOp::Ne) => {
                Err(err(
                    "GUIDs and booleans can only be compared with eq, ne or in",
                ))
            }
            _ => Ok(()),
        }
    }

    fn operand(&mut self) -> Result<Operand, ODataError> {
        match self.next() {
            Some(Tok::Word(w)) => {
                let lower = w.to_ascii_lowercase();
                if self.peek() == Some(&Tok::Open) {
                    let case = match lower.as_str() {
                        "tolower" => Some(true),
                        "toupper" => Some(false),
                        _ => None,
                    };
                    let Some(to_lower) = case else {
                        if UNSUPPORTED_FUNCTIONS.contains(&lower.as_str())
                            || lower.starts_with("geo.")
                        {
                            return Err(not_implemented(format!(
                                "the function `{lower}` is not supported"
                            )));
                        }
                        return Err(err(format!("unknown function `{w}`")));
                    };
                    self.next();
                    self.enter()?;
                    let inner = self.operand()?;
                    self.expect(Tok::Close, "`)`")?;
                    self.depth -= 1;
                    if operand_type(self.set, &inner) != Some(EdmType::String) {
                        return Err(err(format!("{lower} needs a string argument")));
                    }
                    return Ok(if to_lower {
                        Operand::ToLower(Box::new(inner))
                    } else {
                        Operand::ToUpper(Box::new(inner))
                    });
                }
                match lower.as_str() {
                    "null" => Ok(Operand::Literal(Literal::Null)),
                    "true" => Ok(Operand::Literal(Literal::Bool(true))),
                    "false" => Ok(Operand::Literal(Literal::Bool(false))),
                    _ if w.contains('/') || w.contains('.') => Err(not_implemented(format!(
                        "navigation and qualified names (`{w}`) are not supported"
                    ))),
                    _ => match self.set.column(&w) {
                        Some(_) => Ok(Operand::Column(w)),
                        None => Err(err(format!(
                            "`{w}` is not a property of {}; properties are: {}",
                            self.set.name,
                            self.set
                                .columns
                                .iter()
                                .map(|c| c.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))),
                    },
                }
            }
            Some(Tok::Open) => Err(err("parentheses around a value are not supported here")),
            Some(t) => literal(t).map(Operand::Literal),
            None => Err(err(
                "expected a property or value, found the end of the filter",
            )),
        }
    }
}

fn is_comparison(w: &str) -> bool {
    ["eq", "ne", "gt", "ge", "lt", "le", "in"].contains(&w.to_ascii_lowercase().as_str())
}

fn literal(t: Tok) -> Result<Literal, ODataError> {
    Ok(match t {
        Tok::Str(s) => Literal::String(s),
        Tok::Int(i) => Literal::Int(i),
        Tok::Guid(g) => Literal::Guid(g),
        Tok::DateTime(d) => Literal::DateTime(d),
        Tok::Word(w) if w.eq_ignore_ascii_case("null") => Literal::Null,
        Tok::Word(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
        Tok::Word(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
        other => return Err(err(format!("expected a value, found {}", show(&other)))),
    })
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Int(i) => i.to_string(),
        Tok::Guid(g) => g.to_string(),
        Tok::DateTime(d) => d.to_rfc3339(),
        Tok::Open => "`(`".into(),
        Tok::Close => "`)`".into(),
        Tok::Comma => "`,`".into(),
    }
}

/// Parses and type-checks a `$filter` against `set`.
pub fn parse(input: &str, set: &EntitySet) -> Result<Expr, ODataError> {
    if input.len() > MAX_FILTER_LEN {
        return Err(err(format!("longer than {MAX_FILTER_LEN} characters")));
    }
    let toks = lex(input)?;
    if toks.is_empty() {
        return Err(err("is empty"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        set,
        depth: 0,
        nodes: 0,
    };
    let expr = p.or()?;
    match p.peek() {
        None => Ok(expr),
        Some(t) => Err(err(format!(
            "unexpected {} after a complete expression",
            show(t)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::views::ReportCatalog;

    fn patches() -> &'static EntitySet {
        ReportCatalog::get().entity_set("Patches").unwrap()
    }

    fn ok(f: &str) -> Expr {
        parse(f, patches()).unwrap_or_else(|e| panic!("{f}: {e:?}"))
    }

    fn bad(f: &str) -> ODataError {
        parse(f, patches()).expect_err(f)
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let e = ok("patchName eq 'a' or patchName eq 'b' and patchType eq 'patch'");
        assert!(matches!(e, Expr::Or(_, r) if matches!(*r, Expr::And(_, _))));
        let e = ok("(patchName eq 'a' or patchName eq 'b') and patchType eq 'patch'");
        assert!(matches!(e, Expr::And(l, _) if matches!(*l, Expr::Or(_, _))));
    }

    #[test]
    fn not_applies_to_the_comparison_after_it() {
        let e = ok("not patchName eq 'a' and patchType eq 'area'");
        assert!(matches!(e, Expr::And(l, _) if matches!(*l, Expr::Not(_))));
    }

    #[test]
    fn keywords_need_a_word_boundary() {
        // `orange` is not `or ange`; `notes`-like names are properties, not `not`.
        assert!(
            bad("patchName eq 'x' orange")
                .message
                .contains("unexpected")
        );
        assert!(
            bad("notpatchName eq 'x'")
                .message
                .contains("not a property")
        );
    }

    #[test]
    fn literals_of_every_kind() {
        ok("patchId eq 6f1c3c8e-2b1a-4b8f-9a53-0f5b6a6c2d11");
        ok("patchCreatedAt ge 2026-01-05");
        ok("patchCreatedAt lt 2026-01-05T10:00:00Z");
        ok("patchCreatedAt lt 2026-01-05T10:00Z");
        ok("patchCreatedAt lt 2026-01-05T10:00:00.123+01:00");
        assert_eq!(bad("patchCreatedAt lt 0000-01-01").status, 400);
        assert_eq!(
            bad("patchCreatedAt lt 9999-12-31T23:00:00-05:00").status,
            400
        );
        ok("patchVersionNumber ge -3");
        ok("parentPatchId eq null");
        ok("patchName eq 'O''Brien'");
        ok("patchType in ('patch', 'area')");
        ok(
            "contains(tolower(patchName), 'cp') and startswith(patchDomain, 'M') or endswith(areaName, 'Area')",
        );
        ok("true");
    }

    #[test]
    fn type_errors_are_400() {
        for f in [
            "patchName eq 3",
            "patchVersionNumber eq 'x'",
            "patchId gt 6f1c3c8e-2b1a-4b8f-9a53-0f5b6a6c2d11",
            "patchName gt null",
            "'a' eq 'b'",
            "contains(patchVersionNumber, 'x')",
            "contains(patchName, patchType)",
            "patchType in ('a', 3)",
            "patchType in ('a', null)",
            "tolower(patchVersionNumber) eq 'x'",
        ] {
            assert_eq!(bad(f).status, 400, "{f}");
        }
    }

    #[test]
    fn syntax_errors_are_400() {
        for f in [
            "",
            "patchName",
            "patchName eq",
            "patchName eq 'x",
            "(patchName eq 'x'",
            "patchName eq 'x')",
            "patchName == 'x'",
            "patchName eq 1.5",
            "nope eq 'x'",
            "patchName eq 'x' and",
            "unknownfn(patchName)",
            "patchName eq 99999999999999999999",
        ] {
            assert_eq!(bad(f).status, 400, "{f}");
        }
    }

    #[test]
    fn unsupported_odata_features_are_501() {
        for f in [
            "length(patchName) gt 3",
            "patchVersionNumber add 1 eq 2",
            "year(patchCreatedAt) eq 2026",
            "Parent/Name eq 'x'",
        ] {
            assert_eq!(bad(f).status, 501, "{f}");
        }
    }

    #[test]
    fn limits_stop_deep_and_long_filters() {
        let deep = format!("{}patchName eq 'x'{}", "(".repeat(100), ")".repeat(100));
        assert!(bad(&deep).message.contains("nested"));
        let nots = format!("{}patchName eq 'x'", "not ".repeat(100));
        assert!(bad(&nots).message.contains("nested"));
        let long = format!("patchName eq '{}'", "x".repeat(MAX_FILTER_LEN));
        assert!(bad(&long).message.contains("longer"));
    }
}
