//! Query options (`$select`, `$filter`, `$orderby`, `$top`, `$skip`, `$count`,
//! `$skiptoken`, `$format`) parsed into a [`Plan`], and the links that resume it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;

use super::{
    ODataError,
    filter::{self, Expr, Literal},
    format,
};
use crate::store::{
    Row, parse_timestamp,
    views::{Column, EdmType, EntitySet},
};

/// The most `$orderby` keys accepted.
pub const MAX_ORDER_KEYS: usize = 12;

/// Options OData v4 defines that this service does not implement (answer 501).
const UNSUPPORTED_OPTIONS: &[&str] = &[
    "$expand",
    "$apply",
    "$search",
    "$compute",
    "$levels",
    "$index",
    "$schemaversion",
    "$deltatoken",
    "$id",
];

/// The answer format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OData JSON, paged.
    Json,
    /// RFC 4180 CSV, streamed whole unless `$top`.
    Csv,
}

/// One sort key.
#[derive(Debug, Clone)]
pub struct SortKey<'a> {
    /// The column.
    pub column: &'a Column,
    /// Descending?
    pub descending: bool,
}

/// A checked reporting query.
#[derive(Debug)]
pub struct Plan<'a> {
    /// The entity set.
    pub set: &'a EntitySet,
    /// Output columns, in order.
    pub select: Vec<&'a Column>,
    /// The `$filter`, if any.
    pub filter: Option<Expr>,
    /// Sort keys: `$orderby` (or the default order), then the key.
    pub order: Vec<SortKey<'a>>,
    /// `$top`.
    pub top: Option<u64>,
    /// `$skip`.
    pub skip: u64,
    /// `$count=true`.
    pub count: bool,
    /// Resume after these sort-key values (`$skiptoken`).
    pub after: Option<Vec<Literal>>,
    /// JSON or CSV.
    pub format: Format,
    /// The options a next link repeats, as given.
    carried: Vec<(&'static str, String)>,
}

fn parse_u64(target: &str, v: &str) -> Result<u64, ODataError> {
    // Bound to i64 so the value is a valid SQL integer parameter in both dialects.
    v.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or_else(|| {
            ODataError::bad_request(
                target,
                format!("must be a whole number from 0 to 2^63-1, not `{v}`"),
            )
        })
}

/// Parses the format from `$format`, else from whether the client accepts only CSV.
fn parse_format(value: Option<&str>, prefers_csv: bool) -> Result<Format, ODataError> {
    let Some(v) = value else {
        return Ok(if prefers_csv {
            Format::Csv
        } else {
            Format::Json
        });
    };
    let base = v
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match base.as_str() {
        "json" | "application/json" => Ok(Format::Json),
        "csv" | "text/csv" => Ok(Format::Csv),
        "xml" | "atom" | "application/xml" | "application/atom+xml" => Err(
            ODataError::not_implemented("$format", "only json and csv are supported"),
        ),
        _ => Err(ODataError::bad_request(
            "$format",
            format!("must be json or csv, not `{v}`"),
        )),
    }
}

fn parse_select<'a>(set: &'a EntitySet, v: &str) -> Result<Vec<&'a Column>, ODataError> {
    let mut out: Vec<&Column> = Vec::new();
    for item in v.split(',').map(str::trim) {
        if item == "*" {
            for c in &set.columns {
                if !out.iter().any(|o| o.name == c.name) {
                    out.push(c);
                }
            }
            continue;
        }
        if item.contains('/') || item.contains('(') {
            return Err(ODataError::not_implemented(
                "$select",
                "navigation and expansion are not supported",
            ));
        }
        let col = set.column(item).ok_or_else(|| {
            ODataError::bad_request(
                "$select",
                format!("`{item}` is not a property of {}", set.name),
            )
        })?;
        if !out.iter().any(|c| c.name == col.name) {
            out.push(col);
        }
    }
    Ok(out)
}

fn parse_orderby<'a>(set: &'a EntitySet, v: &str) -> Result<Vec<SortKey<'a>>, ODataError> {
    let mut keys: Vec<SortKey> = Vec::new();
    for item in v.split(',').map(str::trim) {
        let mut words = item.split_whitespace();
        let name = words
            .next()
            .ok_or_else(|| ODataError::bad_request("$orderby", "empty sort key"))?;
        let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(ODataError::bad_request(
                    "$orderby",
                    format!("`{other}`: use asc or desc"),
                ));
            }
        };
        if words.next().is_some() {
            return Err(ODataError::bad_request(
                "$orderby",
                format!("cannot read `{item}`"),
            ));
        }
        if name.contains('/') || name.contains('(') {
            return Err(ODataError::not_implemented(
                "$orderby",
                "only properties can be sorted on",
            ));
        }
        let column = set.column(name).ok_or_else(|| {
            ODataError::bad_request(
                "$orderby",
                format!("`{name}` is not a property of {}", set.name),
            )
        })?;
        if keys.iter().any(|k| k.column.name == column.name) {
            return Err(ODataError::bad_request(
                "$orderby",
                format!("`{name}` appears twice"),
            ));
        }
        keys.push(SortKey { column, descending });
    }
    if keys.len() > MAX_ORDER_KEYS {
        return Err(ODataError::bad_request(
            "$orderby",
            format!("at most {MAX_ORDER_KEYS} keys"),
        ));
    }
    Ok(keys)
}

/// Parses the query options of a request for `set`. Options not starting with `$`
/// are ignored (OData custom options).
pub fn plan<'a>(
    set: &'a EntitySet,
    options: &[(String, String)],
    prefers_csv: bool,
) -> Result<Plan<'a>, ODataError> {
    // System query option names are case-insensitive (OData 4.01): `$Filter` is `$filter`.
    let options: Vec<(String, String)> = options
        .iter()
        .map(|(k, v)| {
            let key = if k.starts_with('$') {
                k.to_ascii_lowercase()
            } else {
                k.clone()
            };
            (key, v.clone())
        })
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    let mut get = |name: &'static str| -> Result<Option<String>, ODataError> {
        let mut values = options
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        let first = values.next();
        // The same option twice with the same value (a connector repeating what the
        // next link already holds) is harmless; different values are ambiguous.
        if values.any(|v| Some(&v) != first.as_ref()) {
            return Err(ODataError::bad_request(
                name,
                "given more than once with different values",
            ));
        }
        seen.push(name);
        Ok(first)
    };
    let filter_text = get("$filter")?;
    let select_text = get("$select")?;
    let orderby_text = get("$orderby")?;
    let top_text = get("$top")?;
    let skip_text = get("$skip")?;
    let count_text = get("$count")?;
    let token_text = get("$skiptoken")?;
    let format_text = get("$format")?;
    for (key, _) in options.iter().filter(|(k, _)| k.starts_with('$')) {
        if UNSUPPORTED_OPTIONS.contains(&key.as_str()) {
            return Err(ODataError::not_implemented(
                key,
                format!("{key} is not supported"),
            ));
        }
        if !seen.contains(&key.as_str()) {
            return Err(ODataError::bad_request(
                key,
                format!("unknown query option {key}"),
            ));
        }
    }

    let filter = filter_text
        .as_deref()
        .map(|f| filter::parse(f, set))
        .transpose()?;
    let select = match select_text.as_deref() {
        Some(s) => parse_select(set, s)?,
        None => set.columns.iter().collect(),
    };
    let mut order = match orderby_text.as_deref() {
        Some(o) => parse_orderby(set, o)?,
        None => set
            .order
            .iter()
            .filter_map(|name| set.column(name))
            .map(|column| SortKey {
                column,
                descending: false,
            })
            .collect(),
    };
    // The key is always the last sort key, so every page has one deterministic order.
    for key in &set.key {
        if !order.iter().any(|k| &k.column.name == key)
            && let Some(column) = set.column(key)
        {
            order.push(SortKey {
                column,
                descending: false,
            });
        }
    }
    let top = top_text
        .as_deref()
        .map(|t| parse_u64("$top", t))
        .transpose()?;
    let skip = skip_text
        .as_deref()
        .map(|s| parse_u64("$skip", s))
        .transpose()?
        .unwrap_or(0);
    let count = match count_text
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ODataError::bad_request(
                "$count",
                format!("must be true or false, not `{other}`"),
            ));
        }
    };
    let format = parse_format(format_text.as_deref(), prefers_csv)?;

    let mut carried = Vec::new();
    for (name, value) in [
        ("$filter", &filter_text),
        ("$select", &select_text),
        ("$orderby", &orderby_text),
        ("$count", &count_text),
    ] {
        if let Some(v) = value {
            carried.push((name, v.clone()));
        }
    }
    let mut plan = Plan {
        set,
        select,
        filter,
        order,
        top,
        skip,
        count,
        after: None,
        format,
        carried,
    };
    if let Some(token) = token_text {
        plan.after = Some(plan.decode_token(&token)?);
    }
    Ok(plan)
}

const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl<'a> Plan<'a> {
    /// The columns a query reads: the selected ones, then sort keys not selected.
    pub fn fetched_columns(&self) -> Vec<&'a Column> {
        let mut cols = self.select.clone();
        for k in &self.order {
            if !cols.iter().any(|c| c.name == k.column.name) {
                cols.push(k.column);
            }
        }
        cols
    }

    fn fingerprint(&self) -> String {
        let parts: Vec<String> = self
            .carried
            .iter()
            .filter(|(k, _)| *k == "$filter" || *k == "$orderby")
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "{:016x}",
            crate::store::fnv1a(&format!("{}|{}", self.set.name, parts.join("&")))
        )
    }

    /// An opaque token resuming after `row` (the last row of a page).
    pub fn token_after(&self, row: &Row) -> String {
        let values: Vec<serde_json::Value> = self
            .order
            .iter()
            .map(|k| {
                let v = row
                    .get(&k.column.name)
                    .cloned()
                    .unwrap_or(crate::store::Value::Null);
                match format::literal(k.column.edm_type, &v) {
                    Literal::Null => serde_json::Value::Null,
                    Literal::Int(i) => i.into(),
                    Literal::Bool(b) => b.into(),
                    Literal::String(s) => s.into(),
                    Literal::Guid(g) => g.to_string().into(),
                    Literal::DateTime(t) => t.to_rfc3339().into(),
                }
            })
            .collect();
        URL_SAFE_NO_PAD.encode(json!({ "q": self.fingerprint(), "v": values }).to_string())
    }

    fn decode_token(&self, token: &str) -> Result<Vec<Literal>, ODataError> {
        let bad = || {
            ODataError::bad_request(
                "$skiptoken",
                "is not a token this query issued; follow @odata.nextLink as given",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| bad())?;
        let parsed: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if parsed["q"].as_str() != Some(self.fingerprint().as_str()) {
            return Err(bad());
        }
        let values = parsed["v"].as_array().ok_or_else(bad)?;
        if values.len() != self.order.len() {
            return Err(bad());
        }
        self.order
            .iter()
            .zip(values)
            .map(|(k, v)| {
                if v.is_null() {
                    return Ok(Literal::Null);
                }
                match k.column.edm_type {
                    EdmType::Int32 | EdmType::Int64 => v.as_i64().map(Literal::Int),
                    EdmType::Boolean => v.as_bool().map(Literal::Bool),
                    EdmType::String => v.as_str().map(|s| Literal::String(s.to_string())),
                    EdmType::Guid => v
                        .as_str()
                        .and_then(|s| uuid::Uuid::parse_str(s).ok())
                        .map(Literal::Guid),
                    EdmType::DateTimeOffset => v
                        .as_str()
                        .and_then(parse_timestamp)
                        .filter(|t| (1..=9999).contains(&chrono::Datelike::year(t)))
                        .map(Literal::DateTime),
                }
                .ok_or_else(bad)
            })
            .collect()
    }

    /// The link to the next page: the same options, the remaining `$top`, a token.
    pub fn next_link(&self, base: &str, token: &str, remaining_top: Option<u64>) -> String {
        let mut pairs: Vec<(String, String)> = self
            .carried
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        if let Some(t) = remaining_top {
            pairs.push(("$top".into(), t.to_string()));
        }
        pairs.push(("$skiptoken".into(), token.to_string()));
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY_VALUE)))
            .collect();
        format!("{base}/api/v1/odata/{}?{}", self.set.name, query.join("&"))
    }

    /// The `@odata.context` URL.
    pub fn context(&self, base: &str) -> String {
        if self.select.len() == self.set.columns.len() {
            format!("{base}/api/v1/odata/$metadata#{}", self.set.name)
        } else {
            let names: Vec<&str> = self.select.iter().map(|c| c.name.as_str()).collect();
            format!(
                "{base}/api/v1/odata/$metadata#{}({})",
                self.set.name,
                names.join(",")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::views::ReportCatalog;

    fn opts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn set() -> &'static EntitySet {
        ReportCatalog::get().entity_set("Patches").unwrap()
    }

    #[test]
    fn the_key_is_always_the_last_sort_key() {
        let p = plan(
            set(),
            &opts(&[("$orderby", "patchType desc, patchName")]),
            false,
        )
        .unwrap();
        let names: Vec<&str> = p.order.iter().map(|k| k.column.name.as_str()).collect();
        assert_eq!(names, ["patchType", "patchName", "patchId"]);
        assert!(p.order[0].descending);
        let p = plan(set(), &[], false).unwrap();
        let names: Vec<&str> = p.order.iter().map(|k| k.column.name.as_str()).collect();
        assert_eq!(names, ["patchId"]);
    }

    #[test]
    fn bad_and_unsupported_options() {
        for (k, v, status) in [
            ("$top", "-1", 400),
            ("$skip", "x", 400),
            ("$count", "yes", 400),
            ("$select", "nope", 400),
            ("$orderby", "patchName sideways", 400),
            ("$orderby", "patchName, patchName", 400),
            ("$format", "yaml", 400),
            ("$format", "xml", 501),
            ("$expand", "x", 501),
            ("$search", "x", 501),
            ("$bogus", "x", 400),
            ("$skiptoken", "garbage", 400),
        ] {
            let e = plan(set(), &opts(&[(k, v)]), false).expect_err(k);
            assert_eq!(
                (e.status, e.target.as_deref()),
                (status, Some(k)),
                "{k}={v}"
            );
        }
        let e = plan(set(), &opts(&[("$top", "1"), ("$top", "2")]), false).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(plan(set(), &opts(&[("$top", "1"), ("$top", "1")]), false).is_ok());
        assert_eq!(
            plan(set(), &opts(&[("$Top", "3")]), false).unwrap().top,
            Some(3)
        );
        assert_eq!(
            plan(set(), &opts(&[("$skip", "9223372036854775808")]), false)
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn skiptokens_are_bound_to_their_query() {
        let p = plan(set(), &opts(&[("$filter", "patchType eq 'patch'")]), false).unwrap();
        let row = Row::new(
            vec!["patchName".to_string(), "patchId".to_string()].into(),
            vec![
                crate::store::Value::Text("CP1".into()),
                crate::store::Value::Text("6f1c3c8e-2b1a-4b8f-9a53-0f5b6a6c2d11".into()),
            ],
        );
        let token = p.token_after(&row);
        let again = plan(
            set(),
            &opts(&[("$filter", "patchType eq 'patch'"), ("$skiptoken", &token)]),
            false,
        )
        .unwrap();
        assert_eq!(
            again.after.as_ref().unwrap()[0],
            Literal::Guid("6f1c3c8e-2b1a-4b8f-9a53-0f5b6a6c2d11".parse().unwrap())
        );
        let other = plan(
            set(),
            &opts(&[("$filter", "patchType eq 'area'"), ("$skiptoken", &token)]),
            false,
        );
        assert_eq!(other.unwrap_err().status, 400);
    }
}
