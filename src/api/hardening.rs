//! Limits and headers every request and response goes through: URL, header and body
//! sizes, a handler timeout, CORS for configured origins only, and security headers.
//! Each refusal is a clean 4xx/5xx in the caller's error format, never a bare status.

use std::{future::Future, time::Duration};

use poem::{
    Body, Request, Response,
    error::ReadBodyError,
    http::{HeaderValue, Method, StatusCode, header},
};

use super::problem::edge_error;

/// Longest path and query accepted, in bytes (hyper itself stops at 64 KiB).
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Most header bytes (names and values) accepted: room for a large identity-provider
/// token with many groups.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The refusal of an over-long URL (414) or oversized headers (431), if any.
pub fn refuse_oversized(req: &Request) -> Option<Response> {
    let path = req.uri().path();
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return Some(edge_error(
            path,
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            "URI too long",
            &format!("The path and query may be at most {MAX_URI_BYTES} bytes."),
        ));
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return Some(edge_error(
            path,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "Request header fields too large",
            &format!("The request headers may total at most {MAX_HEADER_BYTES} bytes."),
        ));
    }
    None
}

fn too_large(path: &str, max: usize) -> Response {
    edge_error(
        path,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload-too-large",
        "Payload too large",
        &format!("The request body may be at most {max} bytes."),
    )
}

/// The refusal (413) of a body over `max` bytes, if any: at once by `Content-Length`,
/// or while reading a chunked body (which is then kept in memory, at most `max` bytes).
pub async fn refuse_large_body(req: &mut Request, max: usize) -> Option<Response> {
    let path = req.uri().path().to_string();
    match req.headers().get(header::CONTENT_LENGTH) {
        Some(len) => match len.to_str().ok().and_then(|l| l.parse::<u64>().ok()) {
            // hyper delivers no more than the declared length.
            Some(n) if n <= max as u64 => None,
            Some(_) => Some(too_large(&path, max)),
            None => Some(edge_error(
                &path,
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                "Content-Length is not a number.",
            )),
        },
        None => match req.take_body().into_bytes_limit(max).await {
            Ok(bytes) => {
                req.set_body(Body::from_bytes(bytes));
                None
            }
            Err(ReadBodyError::PayloadTooLarge) => Some(too_large(&path, max)),
            Err(_) => Some(edge_error(
                &path,
                StatusCode::BAD_REQUEST,
                "bad-request",
                "Bad request",
                "The request body could not be read.",
            )),
        },
    }
}

/// Runs `work` (the rest of the request up to its response headers; a streamed body
/// is not cut) for at most `limit`, then answers 503.
pub async fn within(
    limit: Duration,
    path: &str,
    work: impl Future<Output = poem::Result<Response>>,
) -> poem::Result<Response> {
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            Ok(timed_out(path, limit))
        }
    }
}

fn timed_out(path: &str, limit: Duration) -> Response {
    let mut resp = edge_error(
        path,
        StatusCode::SERVICE_UNAVAILABLE,
        "timeout",
        "The request took too long",
        &format!(
            "The server stopped working on it after {} ms; retry later or ask for less.",
            limit.as_millis()
        ),
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    resp
}

/// Headers browsers read; a JSON API needs none of what they guard against.
pub fn add_security_headers(path: &str, resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    // The docs page runs Swagger UI's inline script; everything else loads nothing.
    let csp = if path == "/docs" || path.starts_with("/docs/") {
        "frame-ancestors 'none'"
    } else {
        "default-src 'none'; frame-ancestors 'none'"
    };
    h.insert("content-security-policy", HeaderValue::from_static(csp));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// Headers a browser script may read from a cross-origin answer.
const EXPOSED: &str =
    "ETag, Location, X-Request-Id, X-Total-Count, X-Next-Link, OData-Version, WWW-Authenticate";
/// Headers a browser script may send.
const ALLOWED_HEADERS: &str = "Authorization, Content-Type, If-Match, X-Api-Key, X-Request-Id, Prefer, Accept, OData-Version, OData-MaxVersion";
const ALLOWED_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";

/// CORS for the configured origins only. Other origins get no CORS headers (so the
/// browser keeps the answer from the script); requests are not refused for it.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    origins: Vec<String>,
}

impl Cors {
    /// Allows exactly `origins` (lower-case, no trailing `/`).
    pub fn new(origins: Vec<String>) -> Self {
        Cors { origins }
    }

    /// The request's `Origin`, if it is an allowed one.
    pub fn allowed_origin(&self, req: &Request) -> Option<HeaderValue> {
        let origin = req.headers().get(header::ORIGIN)?;
        let text = origin.to_str().ok()?.to_ascii_lowercase();
        self.origins.contains(&text).then(|| origin.clone())
    }

    /// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`) from
    /// an allowed origin; `None` for anything else.
    pub fn preflight(&self, req: &Request) -> Option<Response> {
        if req.method() != Method::OPTIONS
            || !req
                .headers()
                .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        {
            return None;
        }
        let origin = self.allowed_origin(req)?;
        Some(
            Response::builder()
                .status(StatusCode::NO_CONTENT)
                .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin)
                .header(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS)
                .header(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS)
                .header(header::ACCESS_CONTROL_MAX_AGE, "600")
                .header(header::VARY, "Origin")
                .finish(),
        )
    }

    /// Marks an answer readable by `origin`.
    pub fn decorate(origin: HeaderValue, resp: &mut Response) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_chunked_body_over_the_limit_is_refused_with_413() {
        let chunks =
            futures_util::stream::iter((0..4).map(|_| Ok::<_, std::io::Error>(bytes_of(600))));
        let mut req = Request::builder()
            .method(Method::POST)
            .uri_str("/api/v1/patch")
            .body(Body::from_bytes_stream(chunks));
        let resp = refuse_large_body(&mut req, 2048).await.unwrap();
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);

        let mut small = Request::builder()
            .method(Method::POST)
            .uri_str("/api/v1/patch")
            .body(Body::from_bytes_stream(futures_util::stream::iter([Ok::<
                _,
                std::io::Error,
            >(
                bytes_of(100),
            )])));
        assert!(refuse_large_body(&mut small, 2048).await.is_none());
        assert_eq!(small.take_body().into_vec().await.unwrap().len(), 100);
    }

    #[tokio::test]
    async fn a_handler_that_never_answers_times_out_with_503() {
        let resp = within(
            Duration::from_millis(20),
            "/api/v1/patch/all",
            std::future::pending(),
        )
        .await
        .unwrap();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(resp.headers().contains_key(header::RETRY_AFTER));
        let odata = within(
            Duration::from_millis(20),
            "/api/v1/odata/Patches",
            std::future::pending(),
        )
        .await
        .unwrap();
        let body = odata.into_body().into_string().await.unwrap();
        assert!(body.contains(r#""code":"timeout""#), "{body}");
    }

    fn bytes_of(n: usize) -> Vec<u8> {
        vec![b'x'; n]
    }
}
