//! The HTTP edge: poem-openapi handlers that parse, validate and map errors. Nothing
//! here builds SQL; handlers call [`PatchStore`](crate::store::patches::PatchStore).

pub mod access;
pub mod dto;
pub mod hardening;
pub mod odata;
pub mod patches;
pub mod problem;
pub mod properties;
pub mod security;
pub mod support;

use std::time::{Duration, Instant};

use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route,
    endpoint::make_sync,
    http::{HeaderValue, StatusCode},
    web::Html,
};
use poem_openapi::{OpenApiService, Tags};
use tracing::Instrument;
use uuid::Uuid;

use crate::{config::Settings, store::patches::PatchStore};

/// Groups of operations in the OpenAPI document.
#[derive(Tags)]
pub enum ApiTags {
    /// Patches and areas, their responsible entities and history.
    Patches,
    /// Properties (homes) and who is responsible for them.
    Properties,
    /// The SQL catalog for support analysts.
    Support,
    /// The reporting API (OData v4 style) over the SQL views, for Qlik and Power BI.
    Reporting,
    /// Liveness and readiness probes.
    Health,
}

/// Every API of the service.
pub type Apis = (
    patches::PatchApi,
    properties::PropertyApi,
    odata::ODataApi,
    support::SupportApi,
);

/// The OpenAPI service with every operation.
pub fn service(store: PatchStore, report: odata::ReportSettings) -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            patches::PatchApi {
                store: store.clone(),
            },
            properties::PropertyApi {
                store: store.clone(),
            },
            odata::ODataApi {
                db: store.database().clone(),
                settings: report,
            },
            support::SupportApi { store },
        ),
        "Patches and Areas API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "The single source of truth for housing patches and areas: who (officer, area \
         manager or group) is responsible for which part of the housing stock. Writes \
         are guarded by versions: send the `ETag` you read as `If-Match`.",
    )
}

fn request_id(req: &Request) -> String {
    req.header("x-request-id")
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| Uuid::new_v4().to_string())
}

/// Turns errors raised outside handlers (bad parameters, unknown routes, wrong
/// methods, unreadable bodies) into problem+json, or OData errors under
/// `/api/v1/odata`; never a bare text body.
fn error_response(err: poem::Error, odata: bool) -> Response {
    if err.is_from_response() {
        // Our own ApiError / ODataApiError, already a complete response.
        return err.into_response();
    }
    let status = err.status();
    let detail = if status.is_server_error() {
        tracing::error!(error = %err, "unhandled error");
        "The request id identifies this failure in the server logs.".to_string()
    } else {
        err.to_string()
    };
    if odata {
        return odata::error_response(status, detail);
    }
    let body = problem::ApiError::for_status(status.as_u16(), detail);
    let json = serde_json::json!({
        "type": body.kind, "title": body.title, "status": body.status, "detail": body.detail,
    });
    Response::builder()
        .status(status)
        .content_type("application/problem+json")
        .body(json.to_string())
}

/// The OpenAPI document with each operation's required role (from the
/// [`access`] table), and the Swagger UI page showing that same document.
fn documents<T: poem_openapi::OpenApi>(api: &OpenApiService<T, ()>) -> (String, String) {
    let raw = api.spec();
    let html = api.swagger_ui_html();
    match access::document_roles(&raw) {
        // The UI page embeds the document verbatim; swap in the annotated one.
        Ok(spec) => {
            let html = html.replacen(&raw, &spec, 1);
            (spec, html)
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot annotate the OpenAPI document with roles");
            (raw, html)
        }
    }
}

/// The whole application: API, OpenAPI document, docs UI, and around them (outermost
/// first) request ids and logging, security headers, CORS, URL and header limits,
/// authentication and roles, the body limit and the handler timeout.
pub fn app(
    store: PatchStore,
    report: odata::ReportSettings,
    settings: &Settings,
) -> impl Endpoint<Output = Response> + use<> {
    let db = store.database().clone();
    let api = service(store, report);
    let (spec, docs) = documents(&api);
    let gate = security::Gate::new(settings.auth.clone());
    let cors = hardening::Cors::new(settings.cors_origins.clone());
    let max_body = settings.max_body_bytes;
    let timeout = Duration::from_millis(settings.request_timeout_ms);
    Route::new()
        .at(
            "/api/v1/openapi.json",
            make_sync(move |_| {
                Response::builder()
                    .content_type("application/json")
                    .body(spec.clone())
            }),
        )
        .nest("/docs", make_sync(move |_| Html(docs.clone())))
        .at(
            "/metrics",
            make_sync(move |_| {
                Response::builder()
                    .content_type("text/plain; version=0.0.4")
                    .body(crate::metrics::render(db.as_ref()))
            }),
        )
        .nest("/", api)
        .around(move |ep, req| async move {
            let path = req.uri().path().to_string();
            let work = async move { ep.call(req).await.map(IntoResponse::into_response) };
            // Errors become responses here, so the layers outside (CORS, security
            // headers) decorate error answers too.
            Ok(match hardening::within(timeout, &path, work).await {
                Ok(resp) => resp,
                Err(e) => error_response(e, path.starts_with(problem::ODATA_PREFIX)),
            })
        })
        .around(move |ep, mut req| async move {
            if let Some(resp) = hardening::refuse_large_body(&mut req, max_body).await {
                return Ok(resp);
            }
            ep.call(req).await.map(IntoResponse::into_response)
        })
        .around(move |ep, mut req| {
            let refusal = gate.refuse(&mut req);
            async move {
                match refusal {
                    None => ep.call(req).await.map(IntoResponse::into_response),
                    Some(resp) => Ok(resp),
                }
            }
        })
        .around(|ep, req| async move {
            if let Some(resp) = hardening::refuse_oversized(&req) {
                return Ok(resp);
            }
            ep.call(req).await.map(IntoResponse::into_response)
        })
        .around(move |ep, req| {
            let preflight = cors.preflight(&req);
            let origin = cors.allowed_origin(&req);
            async move {
                let mut resp = match preflight {
                    Some(resp) => resp,
                    None => ep.call(req).await.map(IntoResponse::into_response)?,
                };
                if let Some(origin) = origin {
                    hardening::Cors::decorate(origin, &mut resp);
                }
                Ok(resp)
            }
        })
        .around(|ep, req| async move {
            let path = req.uri().path().to_string();
            let mut resp = match ep.call(req).await {
                Ok(r) => r.into_response(),
                Err(e) => error_response(e, path.starts_with(problem::ODATA_PREFIX)),
            };
            hardening::add_security_headers(&path, &mut resp);
            Ok(resp)
        })
        .around(|ep, req| async move {
            let id = request_id(&req);
            let odata = req.uri().path().starts_with(problem::ODATA_PREFIX);
            // Only the path: query strings and headers (credentials) are never logged.
            let span = tracing::info_span!(
                "request",
                request_id = %id,
                method = %req.method(),
                path = %req.uri().path(),
                caller = tracing::field::Empty
            );
            let started = Instant::now();
            let (route, method) = (
                crate::metrics::route_template(req.uri().path()),
                crate::metrics::method_label(req.method().as_str()),
            );
            let result = ep.call(req).instrument(span.clone()).await;
            let mut resp = match result {
                Ok(r) => r.into_response(),
                Err(e) => error_response(e, odata),
            };
            if let Ok(v) = HeaderValue::from_str(&id) {
                resp.headers_mut().insert("x-request-id", v);
            }
            if odata && !resp.headers().contains_key("odata-version") {
                // Errors too: OData clients read the version of every answer.
                resp.headers_mut()
                    .insert("odata-version", HeaderValue::from_static("4.0"));
            }
            let status = resp.status();
            crate::metrics::observe_request(
                &route,
                method,
                status.as_u16(),
                started.elapsed().as_secs_f64(),
            );
            span.in_scope(|| {
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    tracing::error!(status = status.as_u16(), duration_ms = ms, "request failed");
                } else {
                    tracing::info!(status = status.as_u16(), duration_ms = ms, "request");
                }
            });
            Ok(resp)
        })
}
