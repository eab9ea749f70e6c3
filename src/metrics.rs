//! Prometheus metrics (`GET /metrics`): requests by route and status, request latency,
//! SQL durations by query name, and connection-pool use.

use std::sync::OnceLock;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::store::Database;

/// The service's metric families.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    queries: HistogramVec,
    pool: IntGaugeVec,
}

const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

fn build() -> Result<Metrics, prometheus::Error> {
    let registry = Registry::new_custom(Some("patches".into()), None)?;
    let requests = IntCounterVec::new(
        Opts::new(
            "http_requests_total",
            "HTTP requests by route template, method and status.",
        ),
        &["route", "method", "status"],
    )?;
    let latency = HistogramVec::new(
        HistogramOpts::new(
            "http_request_duration_seconds",
            "HTTP request latency by route template.",
        )
        .buckets(BUCKETS.to_vec()),
        &["route", "method"],
    )?;
    let queries = HistogramVec::new(
        HistogramOpts::new(
            "sql_query_duration_seconds",
            "SQL statement duration by named query (the SQL file name).",
        )
        .buckets(BUCKETS.to_vec()),
        &["query"],
    )?;
    let pool = IntGaugeVec::new(
        Opts::new(
            "db_pool_connections",
            "Database connections by state (open, idle, in_use).",
        ),
        &["state"],
    )?;
    registry.register(Box::new(requests.clone()))?;
    registry.register(Box::new(latency.clone()))?;
    registry.register(Box::new(queries.clone()))?;
    registry.register(Box::new(pool.clone()))?;
    Ok(Metrics {
        registry,
        requests,
        latency,
        queries,
        pool,
    })
}

/// The process-wide metrics; `None` only if the families could not be registered.
pub fn global() -> Option<&'static Metrics> {
    static METRICS: OnceLock<Option<Metrics>> = OnceLock::new();
    METRICS
        .get_or_init(|| {
            build()
                .map_err(|e| tracing::error!(error = %e, "metrics unavailable"))
                .ok()
        })
        .as_ref()
}

/// Records one SQL statement.
pub fn observe_query(query: &str, seconds: f64) {
    if let Some(m) = global() {
        m.queries.with_label_values(&[query]).observe(seconds);
    }
}

/// Records one HTTP request.
pub fn observe_request(route: &str, method: &str, status: u16, seconds: f64) {
    if let Some(m) = global() {
        m.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        m.latency
            .with_label_values(&[route, method])
            .observe(seconds);
    }
}

/// The route template of a path, so ids and stray paths do not explode the label set:
/// `/api/v1/patch/<anything>/history` → `/api/v1/patch/{id}/history`. Paths outside the
/// API's shapes become `unmatched`.
pub fn route_template(path: &str) -> String {
    const FIXED: &[&str] = &[
        "/health/live",
        "/health/ready",
        "/metrics",
        "/api/v1/openapi.json",
        "/api/v1/queries",
        "/api/v1/patch",
        "/api/v1/patch/all",
        "/api/v1/odata",
        "/api/v1/odata/$metadata",
    ];
    if FIXED.contains(&path) || path == "/docs" || path.starts_with("/docs/") {
        return if path.starts_with("/docs") {
            "/docs".into()
        } else {
            path.to_string()
        };
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let known = |s: &str| {
        crate::store::views::ReportCatalog::get()
            .entity_set(s)
            .is_some()
    };
    let template: Option<String> = match segments.as_slice() {
        ["api", "v1", "patch", _] => Some("/api/v1/patch/{id}".into()),
        [
            "api",
            "v1",
            "patch",
            _,
            tail @ ("history" | "responsible-entities" | "responsibleEntities"),
        ] => Some(format!("/api/v1/patch/{{id}}/{tail}")),
        [
            "api",
            "v1",
            "patch",
            _,
            kind @ ("responsible-entity" | "responsibleEntity"),
            _,
        ] => Some(format!("/api/v1/patch/{{id}}/{kind}/{{reId}}")),
        [
            "api",
            "v1",
            "properties",
            _,
            tail @ ("patch" | "responsibility"),
        ] => Some(format!("/api/v1/properties/{{propertyRef}}/{tail}")),
        ["api", "v1", "odata", set] => {
            let (name, key) = set
                .split_once('(')
                .map_or((*set, false), |(n, _)| (n, true));
            known(name).then(|| {
                if key {
                    format!("/api/v1/odata/{name}({{key}})")
                } else {
                    format!("/api/v1/odata/{name}")
                }
            })
        }
        ["api", "v1", "odata", set, "$count"] if known(set) => {
            Some(format!("/api/v1/odata/{set}/$count"))
        }
        _ => None,
    };
    template.unwrap_or_else(|| "unmatched".into())
}

/// The method as a label: the usual ones, else `OTHER`.
pub fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

/// The text exposition of every metric, with the pool gauges read now.
pub fn render(db: &dyn Database) -> String {
    let Some(m) = global() else {
        return String::new();
    };
    let pool = db.pool_status();
    m.pool.with_label_values(&["open"]).set(pool.open as i64);
    m.pool.with_label_values(&["idle"]).set(pool.idle as i64);
    m.pool
        .with_label_values(&["in_use"])
        .set(pool.open.saturating_sub(pool.idle) as i64);
    let mut out = Vec::new();
    if let Err(e) = TextEncoder::new().encode(&m.registry.gather(), &mut out) {
        tracing::error!(error = %e, "cannot encode metrics");
    }
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_become_templates() {
        let id = "6f1c3c8e-2b1a-4b8f-9a53-0f5b6a6c2d11";
        assert_eq!(
            route_template(&format!("/api/v1/patch/{id}/responsible-entity/{id}")),
            "/api/v1/patch/{id}/responsible-entity/{reId}"
        );
        assert_eq!(
            route_template("/api/v1/properties/100021/responsibility"),
            "/api/v1/properties/{propertyRef}/responsibility"
        );
        assert_eq!(
            route_template(&format!("/api/v1/odata/Patches({id})")),
            "/api/v1/odata/Patches({key})"
        );
        assert_eq!(route_template("/api/v1/patch/all"), "/api/v1/patch/all");
        assert_eq!(
            route_template("/api/v1/patch/not-a-guid"),
            "/api/v1/patch/{id}"
        );
        assert_eq!(route_template("/wp-admin/x/y"), "unmatched");
        assert_eq!(route_template("/api/v1/odata/Nope"), "unmatched");
    }
}
