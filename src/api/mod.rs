//! The HTTP edge: poem-openapi handlers that parse, validate and map errors. Nothing
//! here builds SQL; handlers call [`PatchStore`](crate::store::patches::PatchStore).

pub mod dto;
pub mod odata;
pub mod patches;
pub mod problem;
pub mod properties;
pub mod support;

use std::time::Instant;

use poem::{
    Endpoint, EndpointExt, IntoResponse, Request, Response, Route,
    http::{HeaderValue, StatusCode},
};
use poem_openapi::{OpenApiService, Tags};
use tracing::Instrument;
use uuid::Uuid;

use crate::store::patches::PatchStore;

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

/// The whole application: API, OpenAPI document, docs UI, request ids and logging.
pub fn app(store: PatchStore, report: odata::ReportSettings) -> impl Endpoint<Output = Response> {
    let api = service(store, report);
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    Route::new()
        .at("/api/v1/openapi.json", spec)
        .nest("/docs", docs)
        .nest("/", api)
        .around(|ep, req| async move {
            let id = request_id(&req);
            let odata = req.uri().path().starts_with("/api/v1/odata");
            let span = tracing::info_span!(
                "request",
                request_id = %id,
                method = %req.method(),
                path = %req.uri().path()
            );
            let started = Instant::now();
            let result = ep.call(req).instrument(span.clone()).await;
            let mut resp = match result {
                Ok(r) => r.into_response(),
                Err(e) => error_response(e, odata),
            };
            if let Ok(v) = HeaderValue::from_str(&id) {
                resp.headers_mut().insert("x-request-id", v);
            }
            let status = resp.status();
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
