//! The authentication layer in front of every route: reads the credentials, asks the
//! [`Authenticator`], checks the role the [`access`](super::access) table requires, and
//! hands the caller to handlers as an [`Actor`] in the request's data. Credentials are
//! never logged; only the caller's subject is.

use std::sync::Arc;

use base64::Engine;
use poem::{
    Request, Response,
    http::{HeaderValue, StatusCode, header},
};

use super::{
    access::{self, Access},
    problem::edge_error,
};
use crate::auth::{AuthMode, Authenticator, Identity, Rejection};

/// The header service accounts send their key in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Decides, per request, whether it may go on.
#[derive(Debug, Clone)]
pub struct Gate {
    auth: Arc<Authenticator>,
}

/// What a client sent to prove who it is.
enum Credentials<'a> {
    None,
    Bearer(&'a str),
    ApiKey(String),
    /// An `Authorization` header this service cannot read.
    Unreadable,
}

fn credentials(req: &Request) -> Credentials<'_> {
    if let Some(key) = req.headers().get(API_KEY_HEADER) {
        return match key.to_str() {
            Ok(k) if !k.trim().is_empty() => Credentials::ApiKey(k.trim().to_string()),
            _ => Credentials::Unreadable,
        };
    }
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Credentials::None;
    };
    let Ok(value) = value.to_str() else {
        return Credentials::Unreadable;
    };
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        return Credentials::Bearer(rest);
    }
    if scheme.eq_ignore_ascii_case("basic") {
        // Any user name; the password is the key.
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        return match decoded.as_deref().and_then(|d| d.split_once(':')) {
            Some((_, key)) if !key.is_empty() => Credentials::ApiKey(key.to_string()),
            _ => Credentials::Unreadable,
        };
    }
    Credentials::Unreadable
}

impl Gate {
    /// A gate checking credentials with `auth`.
    pub fn new(auth: Authenticator) -> Self {
        Gate {
            auth: Arc::new(auth),
        }
    }

    fn identify(&self, req: &Request) -> Result<Identity, Rejection> {
        if self.auth.mode() == AuthMode::None {
            return Ok(Identity::anonymous());
        }
        match credentials(req) {
            Credentials::None => Err(Rejection::Missing),
            Credentials::Unreadable => Err(Rejection::SchemeNotAccepted),
            Credentials::Bearer(token) => self.auth.verify_bearer(token),
            Credentials::ApiKey(key) => self.auth.verify_api_key(&key),
        }
    }

    /// Attaches the caller to the request (`Data<&Actor>`, `Data<&Identity>`) and lets
    /// it through (`None`), or returns the 401 or 403 answer.
    pub fn refuse(&self, req: &mut Request) -> Option<Response> {
        let path = req.uri().path().to_string();
        let needed = access::required(req.method().as_str(), &path);
        let identity = match (self.identify(req), needed) {
            (Ok(identity), _) => identity,
            // Public routes do not care about bad or missing credentials.
            (Err(_), Access::Public) => Identity::anonymous(),
            (Err(rejection), Access::Role(_)) => {
                tracing::info!(reason = %rejection, "request not authenticated");
                return Some(self.unauthenticated(&path, rejection));
            }
        };
        if let Access::Role(role) = needed
            && !identity.role.is_some_and(|r| r.includes(role))
        {
            tracing::info!(caller = %identity.subject, needed = role.as_str(), "request forbidden");
            return Some(edge_error(
                &path,
                StatusCode::FORBIDDEN,
                "forbidden",
                "Forbidden",
                &format!(
                    "This operation needs the `{}` role; your credentials grant {}.",
                    role.as_str(),
                    identity
                        .role
                        .map_or("no role".to_string(), |r| format!("`{}`", r.as_str()))
                ),
            ));
        }
        tracing::Span::current().record("caller", identity.subject.as_str());
        req.set_data(identity.actor.clone());
        req.set_data(identity);
        None
    }

    /// The `WWW-Authenticate` challenges for the schemes this configuration accepts.
    fn challenges(&self, rejection: Rejection) -> Vec<String> {
        let mut out = Vec::new();
        if self.auth.accepts_bearer() {
            out.push(if rejection.is_token_error() {
                // RFC 6750 §3: say the token was the problem; the detail is in the body.
                r#"Bearer realm="patches", error="invalid_token""#.to_string()
            } else {
                r#"Bearer realm="patches""#.to_string()
            });
        }
        if self.auth.accepts_api_keys() {
            out.push(r#"Basic realm="patches", charset="UTF-8""#.to_string());
        }
        out
    }

    fn unauthenticated(&self, path: &str, rejection: Rejection) -> Response {
        let schemes = match (self.auth.accepts_bearer(), self.auth.accepts_api_keys()) {
            (true, true) => "a Bearer token, or an API key in X-Api-Key or as the Basic password",
            (true, false) => "a Bearer token",
            _ => "an API key in X-Api-Key or as the Basic password",
        };
        let detail = match rejection {
            Rejection::Missing => format!("Send {schemes}."),
            other => format!("{}; send {schemes}.", capitalise(&other.to_string())),
        };
        let mut resp = edge_error(
            path,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
            &detail,
        );
        for challenge in self.challenges(rejection) {
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                resp.headers_mut().append(header::WWW_AUTHENTICATE, v);
            }
        }
        resp
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
