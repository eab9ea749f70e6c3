//! `/api/v1/odata`: the reporting API over the views, for Qlik, Power BI and Excel.
//! Parsing and SQL rendering live in [`crate::odata`]; this module only speaks HTTP:
//! options in, JSON pages or streamed CSV out, OData errors.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use poem::{Body, Request};
use poem_openapi::{
    ApiResponse, Object, OpenApi, ResponseContent,
    param::{Header, Path, Query},
    payload::{Binary, Json, PlainText},
};
use serde_json::{Map, json};

use super::ApiTags;
use crate::{
    odata::{
        ODataError, csdl,
        csv::{CsvWriter, stream_rows},
        filter::{CmpOp, Expr, Literal, Operand},
        format,
        query::{self, Format, Plan},
        render,
    },
    store::{
        Database, Row, StoreError, TxMode,
        catalog::SqlFile,
        views::{EdmType, EntitySet, ReportCatalog},
    },
};

/// The OData error body: `{"error": {"code", "message", "target"}}`.
#[derive(Debug, Object)]
pub struct ODataErrorBody {
    /// The error.
    pub error: ODataErrorDetail,
}

/// One OData error.
#[derive(Debug, Object)]
pub struct ODataErrorDetail {
    /// A short code: `BadRequest`, `NotFound`, `NotImplemented`, `Timeout`, `Unavailable`.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// The query option at fault, e.g. `$filter`.
    #[oai(skip_serializing_if_is_none)]
    pub target: Option<String>,
}

/// Errors of the reporting API, in OData format.
#[derive(Debug, ApiResponse)]
pub enum ODataApiError {
    /// A query option is malformed or invalid.
    #[oai(status = 400)]
    BadRequest(Json<Box<ODataErrorBody>>),
    /// No such entity set or row.
    #[oai(status = 404)]
    NotFound(Json<Box<ODataErrorBody>>),
    /// An OData feature this service does not implement.
    #[oai(status = 501)]
    NotImplemented(Json<Box<ODataErrorBody>>),
    /// The query ran past the statement timeout, or the database is unavailable.
    #[oai(status = 503)]
    Unavailable(Json<Box<ODataErrorBody>>),
    /// An unexpected failure; the request id identifies it in the logs.
    #[oai(status = 500)]
    Internal(Json<Box<ODataErrorBody>>),
}

fn body(code: &str, message: String, target: Option<String>) -> Json<Box<ODataErrorBody>> {
    Json(Box::new(ODataErrorBody {
        error: ODataErrorDetail {
            code: code.to_string(),
            message,
            target,
        },
    }))
}

impl From<ODataError> for ODataApiError {
    fn from(e: ODataError) -> Self {
        let b = body(e.code, e.message, e.target);
        match e.status {
            404 => ODataApiError::NotFound(b),
            501 => ODataApiError::NotImplemented(b),
            _ => ODataApiError::BadRequest(b),
        }
    }
}

impl From<StoreError> for ODataApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Timeout(ref query) => {
                tracing::warn!(query = %query, "reporting query stopped by the statement timeout");
                ODataApiError::Unavailable(body(
                    "Timeout",
                    "The query ran longer than the statement timeout; narrow it with $filter or $top."
                        .into(),
                    None,
                ))
            }
            StoreError::Unavailable(_) => {
                tracing::warn!(error = %e, "database unavailable");
                ODataApiError::Unavailable(body(
                    "Unavailable",
                    "The database is unavailable; retry shortly.".into(),
                    None,
                ))
            }
            other => {
                tracing::error!(error = %other, "reporting query failed");
                ODataApiError::Internal(body(
                    "Internal",
                    "Internal error; the request id identifies it in the server logs.".into(),
                    None,
                ))
            }
        }
    }
}

/// The OData error response for an error raised outside a handler (bad route, …).
pub fn error_response(status: poem::http::StatusCode, message: String) -> poem::Response {
    let code = match status.as_u16() {
        404 => "NotFound",
        405 => "MethodNotAllowed",
        s if s >= 500 => "Internal",
        _ => "BadRequest",
    };
    poem::Response::builder()
        .status(status)
        .header("OData-Version", "4.0")
        .content_type("application/json")
        .body(json!({ "error": { "code": code, "message": message } }).to_string())
}

/// A JSON or CSV answer.
#[derive(ResponseContent)]
pub enum ODataBody {
    /// OData JSON.
    Json(Json<serde_json::Value>),
    /// RFC 4180 CSV with a header row.
    #[oai(content_type = "text/csv; charset=utf-8")]
    Csv(Binary<Body>),
}

/// A reporting answer with its paging facts in headers.
#[derive(ApiResponse)]
pub enum ODataResult {
    /// The rows.
    #[oai(status = 200)]
    Ok(
        ODataBody,
        /// Always `4.0`.
        #[oai(header = "OData-Version")]
        String,
        /// The total row count (with `$count=true`).
        #[oai(header = "X-Total-Count")]
        Option<String>,
        /// The absolute URL of the next page (only when more rows remain).
        #[oai(header = "X-Next-Link")]
        Option<String>,
        /// The page size applied, when the client sent `Prefer: odata.maxpagesize`.
        #[oai(header = "Preference-Applied")]
        Option<String>,
    ),
}

/// `$metadata`.
#[derive(ApiResponse)]
pub enum MetadataResult {
    /// CSDL XML.
    #[oai(status = 200, content_type = "application/xml")]
    Ok(PlainText<String>, #[oai(header = "OData-Version")] String),
}

/// A count as plain text.
#[derive(ApiResponse)]
pub enum CountResult {
    /// The number of rows matching `$filter`.
    #[oai(status = 200)]
    Ok(PlainText<String>, #[oai(header = "OData-Version")] String),
}

/// Reporting settings from configuration.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// Largest page.
    pub max_page_size: u64,
    /// External base URL, if configured.
    pub public_url: Option<String>,
    /// Statement timeout for reporting queries.
    pub query_timeout: Duration,
    /// The listen address, for links when neither a public URL nor a Host is known.
    pub listen: String,
}

/// The reporting API.
pub struct ODataApi {
    /// The database the views live in.
    pub db: std::sync::Arc<dyn Database>,
    /// Paging, links and timeouts.
    pub settings: ReportSettings,
}

fn query_pairs(req: &Request) -> Vec<(String, String)> {
    let raw = req.uri().query().unwrap_or("");
    url_decode_pairs(raw)
}

fn url_decode_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn view_file(db: &dyn Database, set: &EntitySet) -> Result<&'static SqlFile, ODataApiError> {
    db.catalog()
        .view(&set.name)
        .ok_or_else(|| StoreError::UnknownQuery(set.name.clone(), db.catalog().dialect()).into())
}

/// Splits `Patches(…)` into the set name and the key text.
fn split_key(segment: &str) -> Result<(&str, Option<&str>), ODataError> {
    match segment.split_once('(') {
        None => Ok((segment, None)),
        Some((name, rest)) => {
            let inner = rest.strip_suffix(')').ok_or_else(|| {
                ODataError::bad_request("key", "a key is written Set(value) or Set(name=value,…)")
            })?;
            Ok((name, Some(inner)))
        }
    }
}

fn key_literal(edm: EdmType, text: &str) -> Result<Literal, ODataError> {
    let t = text.trim();
    let bad = || ODataError::bad_request("key", format!("`{t}` is not a valid {}", edm.edm_name()));
    match edm {
        EdmType::Guid => uuid::Uuid::parse_str(t.trim_matches('\''))
            .map(Literal::Guid)
            .map_err(|_| bad()),
        EdmType::Int32 | EdmType::Int64 => t.parse().map(Literal::Int).map_err(|_| bad()),
        EdmType::String => t
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .map(|s| Literal::String(s.replace("''", "'")))
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// The key predicate `Set(…)` as a filter on the key columns.
/// Splits `a='x,y',b=2` on the commas outside quoted strings.
fn split_outside_quotes(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn key_filter(set: &EntitySet, text: &str) -> Result<Expr, ODataError> {
    let parts = split_outside_quotes(text);
    let mut terms = Vec::new();
    let named = |p: &str| p.split_once('=').is_some_and(|(n, _)| !n.contains('\''));
    if parts.len() == 1 && !named(parts[0]) && set.key.len() == 1 {
        let column = set
            .column(&set.key[0])
            .ok_or_else(|| ODataError::not_found("no key"))?;
        terms.push((column.name.clone(), key_literal(column.edm_type, parts[0])?));
    } else {
        for part in parts {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                ODataError::bad_request(
                    "key",
                    format!("name every key of {}: {}", set.name, set.key.join(", ")),
                )
            })?;
            let name = name.trim();
            if !set.key.iter().any(|k| k == name) {
                return Err(ODataError::bad_request(
                    "key",
                    format!("`{name}` is not a key of {}", set.name),
                ));
            }
            let column = set
                .column(name)
                .ok_or_else(|| ODataError::not_found("no key"))?;
            terms.push((column.name.clone(), key_literal(column.edm_type, value)?));
        }
        if terms.len() != set.key.len() {
            return Err(ODataError::bad_request(
                "key",
                format!("name every key of {}: {}", set.name, set.key.join(", ")),
            ));
        }
    }
    let mut exprs = terms
        .into_iter()
        .map(|(c, v)| Expr::Compare(CmpOp::Eq, Operand::Column(c), Operand::Literal(v)));
    let first = exprs
        .next()
        .ok_or_else(|| ODataError::bad_request("key", "empty key"))?;
    Ok(exprs.fold(first, |acc, e| Expr::And(Box::new(acc), Box::new(e))))
}

fn row_object(plan: &Plan<'_>, row: &Row) -> serde_json::Value {
    let mut object = Map::new();
    for c in &plan.select {
        let v = row
            .get(&c.name)
            .cloned()
            .unwrap_or(crate::store::Value::Null);
        object.insert(c.name.clone(), format::json(c.edm_type, &v));
    }
    serde_json::Value::Object(object)
}

fn prefer_max_page(prefer: Option<&str>) -> Option<u64> {
    prefer?.split([',', ';']).find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("odata.maxpagesize")
            .then(|| value.trim().trim_matches('"').parse().ok())
            .flatten()
    })
}

fn entity_set(name: &str) -> Result<&'static EntitySet, ODataError> {
    ReportCatalog::get().entity_set(name).ok_or_else(|| {
        ODataError::not_found(format!(
            "no entity set `{name}`; GET /api/v1/odata lists them"
        ))
    })
}

fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

const CSV_CHUNK: usize = 64 * 1024;

impl ODataApi {
    fn base_url(&self, req: &Request) -> String {
        if let Some(url) = &self.settings.public_url {
            return url.clone();
        }
        match req.header("host") {
            // Only a plain host[:port]: a Host header must not inject paths into links.
            Some(host) if is_plain_host(host) => format!("http://{host}"),
            _ => format!("http://{}", self.settings.listen),
        }
    }

    async fn csv(
        &self,
        plan: Plan<'static>,
        label: &'static SqlFile,
    ) -> Result<ODataResult, ODataApiError> {
        let dialect = self.db.catalog().dialect();
        let sql = render::select(&plan, dialect, plan.after.as_deref(), plan.skip, plan.top);
        tracing::debug!(target: "patches::sql", sql = %sql.text, "reporting csv");
        let rows = stream_rows(self.db.as_ref(), label, sql).await?;
        let writer = CsvWriter::new(&plan);
        let mut header = Vec::new();
        writer.header(&mut header);
        let chunks = stream::unfold(
            (Some(header), rows, writer),
            |(buf, mut rows, writer)| async move {
                let mut out = buf.unwrap_or_default();
                while out.len() < CSV_CHUNK {
                    match rows.next().await {
                        Some(Ok(row)) => writer.row(&row, &mut out),
                        Some(Err(e)) => {
                            tracing::error!(error = %e, "csv stream failed");
                            let err =
                                std::io::Error::other("the reporting query failed mid-stream");
                            return Some((Err(err), (None, rows, writer)));
                        }
                        None if out.is_empty() => return None,
                        None => break,
                    }
                }
                Some((
                    Ok::<_, std::io::Error>(Bytes::from(out)),
                    (None, rows, writer),
                ))
            },
        );
        Ok(ODataResult::Ok(
            ODataBody::Csv(Binary(Body::from_bytes_stream(chunks))),
            "4.0".into(),
            None,
            None,
            None,
        ))
    }
}

#[OpenApi(tag = "ApiTags::Reporting")]
impl ODataApi {
    /// Reporting service document
    ///
    /// The entity sets (flattened SQL views) available for reporting.
    #[oai(
        path = "/api/v1/odata",
        method = "get",
        operation_id = "odataServiceDocument"
    )]
    async fn service_document(&self, req: &Request) -> ODataResult {
        let base = self.base_url(req);
        let sets: Vec<serde_json::Value> = ReportCatalog::get()
            .entity_sets
            .iter()
            .map(|s| json!({ "name": s.name, "kind": "EntitySet", "url": s.name }))
            .collect();
        let doc =
            json!({ "@odata.context": format!("{base}/api/v1/odata/$metadata"), "value": sets });
        ODataResult::Ok(ODataBody::Json(Json(doc)), "4.0".into(), None, None, None)
    }

    /// Reporting metadata (CSDL XML)
    ///
    /// Every entity set, its key, and its columns with EDM types and descriptions, as
    /// OData v4 CSDL XML (what Power BI's `OData.Feed` reads first).
    #[oai(
        path = "/api/v1/odata/$metadata",
        method = "get",
        operation_id = "odataMetadata"
    )]
    async fn metadata(&self) -> MetadataResult {
        MetadataResult::Ok(
            PlainText(csdl::metadata(ReportCatalog::get())),
            "4.0".into(),
        )
    }

    /// Query an entity set, or read one row by key
    ///
    /// `GET /api/v1/odata/Patches?$filter=…&$select=…&$orderby=…&$top=…&$skip=…&$count=true`
    /// answers an OData JSON page (`@odata.nextLink` when more rows remain; also in the
    /// `X-Next-Link` header) or, with `$format=csv` or `Accept: text/csv`, the whole
    /// result as streamed CSV. `GET /api/v1/odata/Patches(<guid>)` reads one row.
    #[oai(
        path = "/api/v1/odata/:entity_set",
        method = "get",
        operation_id = "odataQuery"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn query(
        &self,
        req: &Request,
        /// An entity set (`Patches`, …), optionally with a key: `Patches(<guid>)`,
        /// `PropertyPatches('100021')`, `PatchResponsibleEntities(patchId=…,responsibleEntityId=…)`.
        #[oai(name = "entity_set")]
        entity_set_path: Path<String>,
        /// Filter expression, e.g. `patchType eq 'patch' and contains(patchName,'CP')`.
        #[oai(name = "$filter")]
        _filter: Query<Option<String>>,
        /// Comma-separated columns to return.
        #[oai(name = "$select")]
        _select: Query<Option<String>>,
        /// Sort keys, e.g. `areaName asc, patchName desc`; the key is always the last.
        #[oai(name = "$orderby")]
        _orderby: Query<Option<String>>,
        /// At most this many rows in all.
        #[oai(name = "$top")]
        _top: Query<Option<String>>,
        /// Skip this many rows first.
        #[oai(name = "$skip")]
        _skip: Query<Option<String>>,
        /// `true` adds `@odata.count` and `X-Total-Count`.
        #[oai(name = "$count")]
        _count: Query<Option<String>>,
        /// Resume token from `@odata.nextLink`; opaque.
        #[oai(name = "$skiptoken")]
        _skiptoken: Query<Option<String>>,
        /// `json` (default) or `csv`.
        #[oai(name = "$format")]
        _format: Query<Option<String>>,
        /// `odata.maxpagesize=N` asks for smaller pages.
        #[oai(name = "Prefer")]
        prefer: Header<Option<String>>,
    ) -> Result<ODataResult, ODataApiError> {
        let (name, key) = split_key(&entity_set_path)?;
        let set = entity_set(name)?;
        let label = view_file(self.db.as_ref(), set)?;
        let prefers_csv = req
            .header("accept")
            .is_some_and(|a| a.contains("text/csv") && !a.contains("json"));
        let options = query_pairs(req);
        let mut plan = query::plan(set, &options, prefers_csv)?;
        let base = self.base_url(req);
        let dialect = self.db.catalog().dialect();
        let timeout = self.settings.query_timeout;

        if let Some(key) = key {
            let key_expr = key_filter(set, key)?;
            if plan.filter.is_some()
                || plan.after.is_some()
                || plan.top.is_some()
                || plan.skip > 0
                || plan.count
            {
                return Err(ODataError::bad_request(
                    "key",
                    "reading one row by key takes only $select",
                )
                .into());
            }
            plan.filter = Some(key_expr);
            let sql = render::select(&plan, dialect, None, 0, Some(2));
            let mut tx = self.db.begin(TxMode::Read).await?;
            let rows = tx.query_sql(label, &sql.text, &sql.params, timeout).await?;
            let row = rows.first().ok_or_else(|| {
                ODataError::not_found(format!("no {} row with key ({key})", set.name))
            })?;
            let mut object = Map::new();
            object.insert(
                "@odata.context".into(),
                format!("{}/$entity", plan.context(&base)).into(),
            );
            if let serde_json::Value::Object(fields) = row_object(&plan, row) {
                object.extend(fields);
            }
            return Ok(ODataResult::Ok(
                ODataBody::Json(Json(serde_json::Value::Object(object))),
                "4.0".into(),
                None,
                None,
                None,
            ));
        }

        if plan.format == Format::Csv {
            return self.csv(plan, label).await;
        }

        let max = self.settings.max_page_size;
        let preferred = prefer_max_page(prefer.as_deref());
        let page_size = preferred.map_or(max, |p| p.clamp(1, max));
        let take = plan.top.map_or(page_size, |t| t.min(page_size));
        let skip = if plan.after.is_some() { 0 } else { plan.skip };
        let mut tx = self.db.begin(TxMode::Read).await?;
        let mut rows = if take == 0 {
            Vec::new()
        } else {
            let sql = render::select(&plan, dialect, plan.after.as_deref(), skip, Some(take + 1));
            tracing::debug!(target: "patches::sql", sql = %sql.text, "reporting page");
            tx.query_sql(label, &sql.text, &sql.params, timeout).await?
        };
        let more = rows.len() as u64 > take;
        rows.truncate(take as usize);
        let total = if plan.count {
            let sql = render::count(&plan, dialect);
            let n = tx.query_sql(label, &sql.text, &sql.params, timeout).await?;
            Some(n.first().and_then(|r| r.int("n").ok()).unwrap_or(0))
        } else {
            None
        };
        drop(tx);
        let remaining_top = plan.top.map(|t| t.saturating_sub(rows.len() as u64));
        let next = match (more, rows.last()) {
            (true, Some(last)) if remaining_top != Some(0) => {
                Some(plan.next_link(&base, &plan.token_after(last), remaining_top))
            }
            _ => None,
        };
        let mut page = Map::new();
        page.insert("@odata.context".into(), plan.context(&base).into());
        if let Some(n) = total {
            page.insert("@odata.count".into(), n.into());
        }
        page.insert(
            "value".into(),
            serde_json::Value::Array(rows.iter().map(|r| row_object(&plan, r)).collect()),
        );
        if let Some(link) = &next {
            page.insert("@odata.nextLink".into(), link.clone().into());
        }
        Ok(ODataResult::Ok(
            ODataBody::Json(Json(serde_json::Value::Object(page))),
            "4.0".into(),
            total.map(|n| n.to_string()),
            next,
            preferred.map(|_| format!("odata.maxpagesize={page_size}")),
        ))
    }

    /// Count the rows of an entity set
    ///
    /// The number of rows matching `$filter`, as plain text.
    #[oai(
        path = "/api/v1/odata/:entity_set/$count",
        method = "get",
        operation_id = "odataCount"
    )]
    async fn count(
        &self,
        req: &Request,
        /// An entity set, e.g. `Patches`.
        #[oai(name = "entity_set")]
        entity_set_path: Path<String>,
        /// Filter expression.
        #[oai(name = "$filter")]
        _filter: Query<Option<String>>,
    ) -> Result<CountResult, ODataApiError> {
        let set = entity_set(&entity_set_path)?;
        let label = view_file(self.db.as_ref(), set)?;
        let options = query_pairs(req);
        // /$count honours $filter only; anything else would be silently ignored.
        if let Some((key, _)) = options
            .iter()
            .find(|(k, _)| k.starts_with('$') && !k.eq_ignore_ascii_case("$filter"))
        {
            return Err(ODataError::bad_request(
                key,
                format!("/$count takes only $filter, not {key}"),
            )
            .into());
        }
        let plan = query::plan(set, &options, false)?;
        let sql = render::count(&plan, self.db.catalog().dialect());
        let mut tx = self.db.begin(TxMode::Read).await?;
        let rows = tx
            .query_sql(label, &sql.text, &sql.params, self.settings.query_timeout)
            .await?;
        let n = rows.first().and_then(|r| r.int("n").ok()).unwrap_or(0);
        Ok(CountResult::Ok(PlainText(n.to_string()), "4.0".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_dollar_signs_and_plus() {
        let pairs = url_decode_pairs("%24filter=patchName%20eq%20%27a+b%27&$top=5");
        assert_eq!(pairs[0], ("$filter".into(), "patchName eq 'a b'".into()));
        assert_eq!(pairs[1], ("$top".into(), "5".into()));
    }

    #[test]
    fn keys_parse_in_every_form() {
        let set = ReportCatalog::get()
            .entity_set("PatchResponsibleEntities")
            .unwrap();
        let g = "6f1c3c8e-2b1a-4b8f-9a53-0f5b6a6c2d11";
        assert!(key_filter(set, &format!("patchId={g},responsibleEntityId={g}")).is_ok());
        assert!(key_filter(set, g).is_err());
        let props = ReportCatalog::get().entity_set("PropertyPatches").unwrap();
        assert!(key_filter(props, "'O''1'").is_ok());
        assert!(key_filter(props, "100").is_err());
        assert!(key_filter(props, "'a,b'").is_ok());
        assert!(key_filter(props, "'a=b'").is_ok());
        assert!(key_filter(props, "propertyRef='a,b'").is_ok());
        assert_eq!(prefer_max_page(Some("odata.maxpagesize = 2")), Some(2));
        assert!(is_plain_host("reports.example.org:8443"));
        assert!(!is_plain_host("evil.example.org/foo?"));
        assert_eq!(
            prefer_max_page(Some("return=minimal, odata.maxpagesize=7")),
            Some(7)
        );
    }
}
