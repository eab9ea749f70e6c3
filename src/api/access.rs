//! Who may call what: the one table of method + path → required role. The auth layer
//! enforces it and the OpenAPI document is annotated from it, so the two cannot drift.
//! Anything the table does not list needs `manager` (deny by default); every GET not
//! listed needs `reader`, so new read-only routes (OData) are covered as they appear.

use serde_json::{Value, json};

use crate::auth::Role;

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credentials (health probes, the API description).
    Public,
    /// Credentials granting at least this role.
    Role(Role),
}

/// One row of the table: a method and a path pattern whose segments are literal,
/// `*` (exactly one segment) or a final `**` (any rest, including nothing).
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path pattern.
    pub pattern: &'static str,
    /// What a request matching both needs.
    pub access: Access,
}

const fn rule(method: &'static str, pattern: &'static str, access: Access) -> Rule {
    Rule {
        method,
        pattern,
        access,
    }
}

const READER: Access = Access::Role(Role::Reader);
const EDITOR: Access = Access::Role(Role::Editor);
const MANAGER: Access = Access::Role(Role::Manager);

/// The table; the first matching row wins.
pub const RULES: &[Rule] = &[
    // Probes and the API description need no credentials: the docs UI must load the
    // document before a user can enter a token, and it holds no data.
    rule("GET", "/health/**", Access::Public),
    rule("GET", "/api/v1/openapi.json", Access::Public),
    rule("GET", "/docs", Access::Public),
    rule("GET", "/docs/**", Access::Public),
    // Reassigning a whole patch is a manager's decision.
    rule("PUT", "/api/v1/patch/*/responsible-entities", MANAGER),
    rule("PUT", "/api/v1/patch/*/responsibleEntities", MANAGER),
    rule("POST", "/api/v1/patch", EDITOR),
    rule("PUT", "/api/v1/patch/*", EDITOR),
    rule("PATCH", "/api/v1/patch/*/responsible-entity/*", EDITOR),
    rule("PATCH", "/api/v1/patch/*/responsibleEntity/*", EDITOR),
    rule("DELETE", "/api/v1/patch/*/responsible-entity/*", EDITOR),
    rule("DELETE", "/api/v1/patch/*/responsibleEntity/*", EDITOR),
    rule("PUT", "/api/v1/properties/*/patch", EDITOR),
    rule("DELETE", "/**", MANAGER),
    rule("GET", "/**", READER),
    rule("HEAD", "/**", READER),
];

/// What an unlisted request needs.
pub const DEFAULT_ACCESS: Access = MANAGER;

fn matches(pattern: &str, path: &str) -> bool {
    let mut pat = pattern.split('/');
    let mut segs = path.split('/');
    loop {
        match (pat.next(), segs.next()) {
            (Some("**"), _) => return true,
            (None, None) => return true,
            (Some("*"), Some(s)) if !s.is_empty() => {}
            (Some(p), Some(s)) if p != "*" && p == s => {}
            _ => return false,
        }
    }
}

/// What `method` on `path` (no query string) needs.
pub fn required(method: &str, path: &str) -> Access {
    RULES
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && matches(r.pattern, path))
        .map_or(DEFAULT_ACCESS, |r| r.access)
}

/// The security schemes callers may use, as OpenAPI `components.securitySchemes`.
fn security_schemes() -> Value {
    json!({
        "bearer": {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "A JWT (HS256 or RS256, as configured); its `groups` claim grants the role."
        },
        "apiKey": {
            "type": "apiKey", "in": "header", "name": "X-Api-Key",
            "description": "A service account's API key (Qlik, Power BI); the key carries its role."
        },
        "basic": {
            "type": "http", "scheme": "basic",
            "description": "HTTP Basic with any user name and an API key as the password."
        }
    })
}

/// Adds to every operation of an OpenAPI document the role the table requires:
/// `x-required-role`, a `security` requirement (empty for public operations) and a
/// closing line in the description.
pub fn document_roles(spec: &str) -> Result<String, serde_json::Error> {
    let mut doc: Value = serde_json::from_str(spec)?;
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for (template, item) in paths.iter_mut() {
            // `/api/v1/patch/{id}` → a concrete path the patterns can match.
            let sample: String = template
                .split('/')
                .map(|s| if s.starts_with('{') { "x" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let Some(ops) = item.as_object_mut() else {
                continue;
            };
            for (method, op) in ops.iter_mut() {
                let Some(op) = op.as_object_mut() else {
                    continue;
                };
                let access = required(method, &sample);
                let (role, security, note) = match access {
                    Access::Public => ("none", json!([]), "Needs no credentials.".to_string()),
                    Access::Role(r) => (
                        r.as_str(),
                        json!([{ "bearer": [] }, { "apiKey": [] }, { "basic": [] }]),
                        format!("Required role: `{}` (or higher).", r.as_str()),
                    ),
                };
                op.insert("x-required-role".into(), json!(role));
                op.insert("security".into(), security);
                let description = match op.get("description").and_then(Value::as_str) {
                    Some(d) if !d.is_empty() => format!("{d}\n\n{note}"),
                    _ => note,
                };
                op.insert("description".into(), json!(description));
            }
        }
    }
    if let Some(root) = doc.as_object_mut() {
        let components = root.entry("components").or_insert_with(|| json!({}));
        if let Some(c) = components.as_object_mut() {
            c.insert("securitySchemes".into(), security_schemes());
        }
    }
    serde_json::to_string(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_the_contract() {
        let id = "6f1c3c8e-2b1a-4b8f-9a53-0f5b6a6c2d11";
        let cases = [
            ("GET", "/health/live".to_string(), Access::Public),
            ("GET", "/docs".into(), Access::Public),
            ("GET", "/api/v1/openapi.json".into(), Access::Public),
            ("GET", format!("/api/v1/patch/{id}"), READER),
            ("GET", "/api/v1/patch/all".into(), READER),
            ("GET", "/api/v1/queries".into(), READER),
            ("GET", "/api/v1/odata/Patches".into(), READER),
            ("POST", "/api/v1/patch".into(), EDITOR),
            ("PUT", format!("/api/v1/patch/{id}"), EDITOR),
            (
                "PATCH",
                format!("/api/v1/patch/{id}/responsible-entity/{id}"),
                EDITOR,
            ),
            (
                "DELETE",
                format!("/api/v1/patch/{id}/responsibleEntity/{id}"),
                EDITOR,
            ),
            ("PUT", "/api/v1/properties/100021/patch".into(), EDITOR),
            (
                "PUT",
                format!("/api/v1/patch/{id}/responsible-entities"),
                MANAGER,
            ),
            (
                "PUT",
                format!("/api/v1/patch/{id}/responsibleEntities"),
                MANAGER,
            ),
            ("DELETE", format!("/api/v1/patch/{id}"), MANAGER),
            // Unlisted writes and odd shapes fall to the default.
            ("POST", "/api/v1/odata/Patches".into(), MANAGER),
            (
                "PUT",
                format!("/api/v1/patch/{id}/responsible-entities/"),
                MANAGER,
            ),
            ("PUT", "/api/v1/patch/".into(), MANAGER),
            ("OPTIONS", "/api/v1/patch".into(), MANAGER),
            ("POST", "/health/live".into(), MANAGER),
        ];
        for (method, path, want) in cases {
            assert_eq!(required(method, &path), want, "{method} {path}");
        }
    }

    #[test]
    fn document_roles_annotates_every_operation() {
        let spec = r#"{"paths":{"/api/v1/patch/{id}":{"get":{"description":"One."},"delete":{}}}}"#;
        let out: Value = serde_json::from_str(&document_roles(spec).unwrap()).unwrap();
        let get = &out["paths"]["/api/v1/patch/{id}"]["get"];
        assert_eq!(get["x-required-role"], "reader");
        assert!(
            get["description"]
                .as_str()
                .unwrap()
                .ends_with("(or higher).")
        );
        assert_eq!(
            out["paths"]["/api/v1/patch/{id}"]["delete"]["x-required-role"],
            "manager"
        );
        assert!(out["components"]["securitySchemes"]["bearer"].is_object());
    }
}
