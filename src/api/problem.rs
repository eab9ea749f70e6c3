//! Errors as RFC 9457 problem details (`application/problem+json`), mapped from
//! domain and store errors in one place.

use std::collections::BTreeMap;

use poem_openapi::{ApiResponse, Object, payload::Json};

use crate::{
    domain::ValidationErrors,
    store::{StoreError, patches::PatchError},
};

/// An RFC 9457 problem details body.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[oai(rename = "type")]
    pub kind: String,
    /// A short, human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this case.
    #[oai(skip_serializing_if_is_none)]
    pub detail: Option<String>,
    /// Validation messages by field, e.g. `{"name": ["must not be empty"]}`.
    #[oai(skip_serializing_if_is_none)]
    pub errors: Option<BTreeMap<String, Vec<String>>>,
    /// On a version conflict: the current version, to retry with `If-Match`.
    #[oai(skip_serializing_if_is_none)]
    pub current_version: Option<i64>,
}

/// Every error the API answers with.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed or invalid.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Box<Problem>>),
    /// The patch, responsible entity or property does not exist.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Box<Problem>>),
    /// The write conflicts with the current state: stale `If-Match`, an existing id, or
    /// a patch that still has children or properties.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Box<Problem>>),
    /// The request is well-formed but refers to a parent that does not exist or would
    /// make a cycle in the tree.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Box<Problem>>),
    /// An unexpected server error; details are in the server log under the request id.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Box<Problem>>),
    /// The database is unavailable or timed out; retry later.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Box<Problem>>),
}

fn problem(status: u16, slug: &str, title: &str, detail: Option<String>) -> Json<Box<Problem>> {
    Json(Box::new(Problem {
        kind: format!("https://patches.example/problems/{slug}"),
        title: title.to_string(),
        status,
        detail,
        errors: None,
        current_version: None,
    }))
}

impl ApiError {
    /// 400 with field messages.
    pub fn validation(errors: ValidationErrors) -> Self {
        let mut body = problem(
            400,
            "validation",
            "The request is invalid",
            Some("See `errors` for each field.".into()),
        );
        body.0.errors = Some(errors.into_map());
        ApiError::BadRequest(body)
    }

    /// 400 for one field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = ValidationErrors::new();
        errors.add(field, message);
        Self::validation(errors)
    }

    /// 404 with a detail.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::NotFound(problem(404, "not-found", "Not found", Some(detail.into())))
    }

    /// A problem for any status, used for errors raised outside our handlers.
    pub fn for_status(status: u16, detail: String) -> Problem {
        let title = poem::http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        *problem(status, "http", title, Some(detail)).0
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) | StoreError::Timeout(_) => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::Unavailable(problem(
                    503,
                    "unavailable",
                    "The database is unavailable",
                    Some(
                        "Retry shortly; the request id identifies this failure in the logs.".into(),
                    ),
                ))
            }
            other => {
                tracing::error!(error = %other, "store error");
                ApiError::Internal(problem(
                    500,
                    "internal",
                    "Internal server error",
                    Some("The request id identifies this failure in the server logs.".into()),
                ))
            }
        }
    }
}

impl From<PatchError> for ApiError {
    fn from(e: PatchError) -> Self {
        match e {
            PatchError::NotFound => ApiError::not_found("No patch or area has this id."),
            PatchError::EntityNotFound => {
                ApiError::not_found("The patch has no responsible entity with this id.")
            }
            PatchError::PropertyNotFound => {
                ApiError::not_found("This property is not assigned to any patch.")
            }
            PatchError::AlreadyExists => ApiError::Conflict(problem(
                409,
                "already-exists",
                "A patch with this id already exists",
                None,
            )),
            PatchError::VersionMismatch { current } => {
                let mut body = problem(
                    409,
                    "version-mismatch",
                    "The patch has changed since you read it",
                    Some(format!(
                        "If-Match does not match the current version {current}; reload the patch and retry."
                    )),
                );
                body.0.current_version = Some(current);
                ApiError::Conflict(body)
            }
            PatchError::HasDependents {
                children,
                properties,
            } => ApiError::Conflict(problem(
                409,
                "has-dependents",
                "The patch still has children or properties",
                Some(format!(
                    "Move or delete its {children} child patches and reassign its {properties} properties first."
                )),
            )),
            PatchError::UnknownParent => ApiError::Unprocessable(problem(
                422,
                "unknown-parent",
                "The parent patch does not exist",
                Some("parentId names no patch or area.".into()),
            )),
            PatchError::Cycle => ApiError::Unprocessable(problem(
                422,
                "cycle",
                "The parent would make a cycle in the tree",
                Some("A patch cannot be its own ancestor.".into()),
            )),
            PatchError::Invalid(errors) => ApiError::validation(errors),
            PatchError::Store(e) => e.into(),
        }
    }
}

/// Where OData clients call; their errors must be OData JSON, not problem+json.
pub const ODATA_PREFIX: &str = "/api/v1/odata";

/// An error raised before any handler (authentication, limits, timeouts), in the
/// format the caller's API speaks: OData JSON under [`ODATA_PREFIX`], problem+json
/// elsewhere. `code` is both the problem type's last segment and the OData code.
pub fn edge_error(
    path: &str,
    status: poem::http::StatusCode,
    code: &str,
    title: &str,
    detail: &str,
) -> poem::Response {
    let odata = path == ODATA_PREFIX || path.starts_with(&format!("{ODATA_PREFIX}/"));
    let (content_type, body) = if odata {
        (
            "application/json",
            serde_json::json!({ "error": { "code": code, "message": format!("{title}: {detail}") } }),
        )
    } else {
        let p = problem(status.as_u16(), code, title, Some(detail.to_string())).0;
        (
            "application/problem+json",
            serde_json::json!({ "type": p.kind, "title": p.title, "status": p.status, "detail": p.detail }),
        )
    };
    poem::Response::builder()
        .status(status)
        .content_type(content_type)
        .body(body.to_string())
}
