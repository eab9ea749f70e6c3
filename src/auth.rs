//! Who is calling: roles, identities, and the checks of bearer tokens (JWT) and API
//! keys. No HTTP here: `api::security` reads the headers, asks an [`Authenticator`]
//! and answers 401 or 403.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::domain::Actor;

/// What a caller may do. A higher role includes every lower one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Every GET, reporting included.
    Reader,
    /// Also create and update patches, change one responsible entity, assign properties.
    Editor,
    /// Everything: also replace the whole responsible-entity list and delete patches.
    Manager,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Reader, Role::Editor, Role::Manager];

    /// The configured and documented name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Editor => "editor",
            Role::Manager => "manager",
        }
    }

    /// Parses `reader`, `editor` or `manager` (any case).
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "reader" => Ok(Role::Reader),
            "editor" => Ok(Role::Editor),
            "manager" => Ok(Role::Manager),
            other => Err(format!(
                "unknown role `{other}`; roles are reader, editor and manager"
            )),
        }
    }

    /// Whether this role may do what `needed` allows.
    pub fn includes(self, needed: Role) -> bool {
        self >= needed
    }
}

/// How callers authenticate (`PATCHES_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// No authentication: local use on a loopback address only.
    None,
    /// Bearer tokens (and API keys, when configured).
    Jwt,
    /// API keys only, for a service used by service accounts alone.
    ApiKeys,
}

impl AuthMode {
    /// Parses `none`, `jwt` or `api-keys`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(AuthMode::None),
            "jwt" => Ok(AuthMode::Jwt),
            "api-keys" | "api_keys" | "apikeys" => Ok(AuthMode::ApiKeys),
            other => Err(format!(
                "must be `none`, `jwt` or `api-keys`, not `{other}`"
            )),
        }
    }
}

/// A value that must never reach a log: its `Debug` form is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key as long as the hash.
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// How bearer tokens are verified.
#[derive(Debug, Clone)]
pub struct JwtSettings {
    algorithm: Algorithm,
    key: DecodingKey,
    issuers: Vec<String>,
    audiences: Vec<String>,
}

impl JwtSettings {
    /// HS256 with a shared secret of at least [`MIN_HS256_SECRET_BYTES`] bytes.
    pub fn hs256(secret: &Secret) -> Result<Self, String> {
        let bytes = secret.expose().as_bytes();
        if bytes.len() < MIN_HS256_SECRET_BYTES {
            return Err(format!(
                "must be at least {MIN_HS256_SECRET_BYTES} bytes (e.g. `openssl rand -hex 32`)"
            ));
        }
        let key = DecodingKey::from_secret(bytes).map_err(|e| e.to_string())?;
        Ok(JwtSettings {
            algorithm: Algorithm::HS256,
            key,
            issuers: Vec::new(),
            audiences: Vec::new(),
        })
    }

    /// RS256 with a public key in PEM (`PUBLIC KEY` or `RSA PUBLIC KEY`).
    pub fn rs256(pem: &[u8]) -> Result<Self, String> {
        let text = String::from_utf8_lossy(pem);
        if text.contains("PRIVATE KEY") {
            return Err(
                "holds a private key; give the service only the public key (`openssl rsa -pubout`)"
                    .into(),
            );
        }
        let key = DecodingKey::from_rsa_pem(pem)
            .map_err(|_| "is not an RSA public key in PEM format".to_string())?;
        Ok(JwtSettings {
            algorithm: Algorithm::RS256,
            key,
            issuers: Vec::new(),
            audiences: Vec::new(),
        })
    }

    /// Accept only tokens whose `iss` is one of `issuers` (none: any issuer).
    pub fn with_issuers(mut self, issuers: Vec<String>) -> Self {
        self.issuers = issuers;
        self
    }

    /// Accept only tokens whose `aud` names one of `audiences` (none: no check).
    pub fn with_audiences(mut self, audiences: Vec<String>) -> Self {
        self.audiences = audiences;
        self
    }

    /// Whether an audience is checked (recommended with a shared identity provider).
    pub fn checks_audience(&self) -> bool {
        !self.audiences.is_empty()
    }

    /// The one algorithm tokens must be signed with.
    pub fn algorithm(&self) -> &'static str {
        match self.algorithm {
            Algorithm::RS256 => "RS256",
            _ => "HS256",
        }
    }

    fn validation(&self) -> Validation {
        // Exactly the configured algorithm: `none`, and HS256 signed with an RS256
        // public key as the secret, are refused before any signature check.
        let mut v = Validation::new(self.algorithm);
        v.leeway = JWT_LEEWAY_SECONDS;
        v.validate_exp = true;
        v.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if self.issuers.is_empty() {
            v.iss = None;
        } else {
            v.set_issuer(&self.issuers);
            required.push("iss");
        }
        if self.audiences.is_empty() {
            v.validate_aud = false;
        } else {
            v.set_audience(&self.audiences);
            required.push("aud");
        }
        v.set_required_spec_claims(&required);
        v
    }
}

/// Clock skew tolerated on `exp` and `nbf`.
pub const JWT_LEEWAY_SECONDS: u64 = 30;

/// Which `groups` claim values grant which role (`PATCHES_ROLE_GROUPS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleGroups(Vec<(String, Role)>);

impl RoleGroups {
    /// Parses `reader=housing-readers;editor=housing-editors;manager=housing-managers`.
    /// A role may list several groups separated by commas.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut pairs = Vec::new();
        for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
            let (role, groups) = entry
                .split_once('=')
                .ok_or_else(|| format!("`{entry}` is not `role=group`"))?;
            let role = Role::parse(role)?;
            for group in groups.split(',').map(str::trim) {
                if group.is_empty() {
                    return Err(format!("role `{}` names an empty group", role.as_str()));
                }
                pairs.push((group.to_string(), role));
            }
        }
        Ok(RoleGroups(pairs))
    }

    /// Whether no group grants any role.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The highest role any of `groups` grants.
    pub fn role_for<'a>(&self, groups: impl IntoIterator<Item = &'a str>) -> Option<Role> {
        let groups: Vec<&str> = groups.into_iter().collect();
        self.0
            .iter()
            .filter(|(g, _)| groups.contains(&g.as_str()))
            .map(|(_, r)| *r)
            .max()
    }
}

/// A service account's key, stored as the SHA-256 of the key.
#[derive(Clone)]
pub struct ApiKey {
    /// Names the key in history (`api-key:LABEL`) and logs.
    pub label: String,
    /// What the key may do.
    pub role: Role,
    sha256: [u8; 32],
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("label", &self.label)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 64
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
}

fn parse_sha256_hex(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

impl ApiKey {
    /// Parses `PATCHES_API_KEYS`: comma-separated `role:sha256hex` or
    /// `label=role:sha256hex`. A key without a label is named `key-` and the first 8
    /// hex digits of its hash.
    pub fn parse_list(text: &str) -> Result<Vec<ApiKey>, String> {
        let mut keys: Vec<ApiKey> = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (label, rest) = match entry.split_once('=') {
                Some((label, rest)) => (Some(label.trim()), rest),
                None => (None, entry),
            };
            let (role, hex) = rest.split_once(':').ok_or_else(|| {
                format!("an entry is not `role:sha256hex` or `label=role:sha256hex` (entry {} of the list)", keys.len() + 1)
            })?;
            let role = Role::parse(role)?;
            let hex = hex.trim().to_ascii_lowercase();
            let sha256 = parse_sha256_hex(&hex).ok_or_else(|| {
                format!(
                    "entry {}: the hash must be 64 hex digits, the SHA-256 of the key (`printf %s \"$KEY\" | sha256sum`)",
                    keys.len() + 1
                )
            })?;
            let label = match label {
                Some(l) if valid_label(l) => l.to_string(),
                Some(_) => {
                    return Err(format!(
                        "entry {}: a label is 1 to 64 letters, digits, `-`, `_`, `.` or `@`",
                        keys.len() + 1
                    ));
                }
                None => format!("key-{}", &hex[..8]),
            };
            if keys.iter().any(|k| k.sha256 == sha256) {
                return Err(format!("the key `{label}` appears more than once"));
            }
            if keys.iter().any(|k| k.label == label) {
                return Err(format!("the label `{label}` is used twice"));
            }
            keys.push(ApiKey {
                label,
                role,
                sha256,
            });
        }
        Ok(keys)
    }
}

/// A caller the service has recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Short, non-personal name for logs: the token's `sub`, `api-key:LABEL` or `anonymous`.
    pub subject: String,
    /// Who history records as `changed_by`.
    pub actor: Actor,
    /// The role granted; `None` when authenticated but in no configured group.
    pub role: Option<Role>,
}

impl Identity {
    /// The caller when authentication is off: may do everything, recorded as `anonymous`.
    pub fn anonymous() -> Self {
        Identity {
            subject: "anonymous".into(),
            actor: Actor::anonymous(),
            role: Some(Role::Manager),
        }
    }
}

/// Why credentials were not accepted. The messages are safe to show to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// No credentials at all.
    #[error("credentials are required")]
    Missing,
    /// A scheme this configuration does not accept.
    #[error("this authentication scheme is not accepted here")]
    SchemeNotAccepted,
    /// Not a JWT, or unreadable claims.
    #[error("the bearer token is malformed")]
    Malformed,
    /// Wrong signature or an algorithm other than the configured one.
    #[error("the bearer token's signature or algorithm is not accepted")]
    BadSignature,
    /// `exp` is past.
    #[error("the bearer token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the bearer token is not valid yet")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("the bearer token's issuer is not accepted")]
    WrongIssuer,
    /// `aud` does not name this service.
    #[error("the bearer token's audience is not accepted")]
    WrongAudience,
    /// A required claim (`exp`, `sub`, and `iss`/`aud` when configured) is absent.
    #[error("the bearer token lacks a required claim")]
    MissingClaim,
    /// No configured API key matches.
    #[error("the API key is not valid")]
    UnknownKey,
}

impl Rejection {
    /// Whether a bearer token was presented (RFC 6750 then adds `error="invalid_token"`).
    pub fn is_token_error(self) -> bool {
        !matches!(
            self,
            Rejection::Missing | Rejection::SchemeNotAccepted | Rejection::UnknownKey
        )
    }
}

/// The claims this service reads from a token.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    preferred_username: Option<String>,
    #[serde(default)]
    groups: Groups,
}

/// `groups` as an array, or a single string as some providers send it.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Groups {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Groups {
    fn iter(&self) -> impl Iterator<Item = &str> {
        let slice: &[String] = match self {
            Groups::None => &[],
            Groups::One(g) => std::slice::from_ref(g),
            Groups::Many(gs) => gs,
        };
        slice.iter().map(String::as_str)
    }
}

/// `sub (Name <email>)`, with whichever of name and email the token carries.
fn describe(claims: &Claims) -> String {
    let name = claims
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let email = claims
        .email
        .as_deref()
        .or(claims
            .preferred_username
            .as_deref()
            .filter(|u| u.contains('@')))
        .map(str::trim)
        .filter(|e| !e.is_empty());
    match (name, email) {
        (Some(n), Some(e)) => format!("{} ({n} <{e}>)", claims.sub),
        (Some(n), None) => format!("{} ({n})", claims.sub),
        (None, Some(e)) => format!("{} (<{e}>)", claims.sub),
        (None, None) => claims.sub.clone(),
    }
}

/// Checks credentials against the configuration.
#[derive(Debug, Clone)]
pub struct Authenticator {
    mode: AuthMode,
    jwt: Option<JwtSettings>,
    role_groups: RoleGroups,
    api_keys: Vec<ApiKey>,
}

impl Authenticator {
    /// No authentication.
    pub fn none() -> Self {
        Authenticator {
            mode: AuthMode::None,
            jwt: None,
            role_groups: RoleGroups::default(),
            api_keys: Vec::new(),
        }
    }

    /// Bearer tokens verified with `jwt`, roles from `role_groups`, plus `api_keys`.
    pub fn jwt(jwt: JwtSettings, role_groups: RoleGroups, api_keys: Vec<ApiKey>) -> Self {
        Authenticator {
            mode: AuthMode::Jwt,
            jwt: Some(jwt),
            role_groups,
            api_keys,
        }
    }

    /// API keys only.
    pub fn api_keys(api_keys: Vec<ApiKey>) -> Self {
        Authenticator {
            mode: AuthMode::ApiKeys,
            jwt: None,
            role_groups: RoleGroups::default(),
            api_keys,
        }
    }

    /// The mode.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// Whether `Authorization: Bearer` is accepted.
    pub fn accepts_bearer(&self) -> bool {
        self.jwt.is_some()
    }

    /// Whether API keys (`X-Api-Key`, or Basic with the key as password) are accepted.
    pub fn accepts_api_keys(&self) -> bool {
        !self.api_keys.is_empty()
    }

    /// The JWT settings, if bearer tokens are accepted.
    pub fn jwt_settings(&self) -> Option<&JwtSettings> {
        self.jwt.as_ref()
    }

    /// Verifies a bearer token: signature with the one configured algorithm, `exp`,
    /// `nbf`, and `iss`/`aud` when configured.
    pub fn verify_bearer(&self, token: &str) -> Result<Identity, Rejection> {
        let jwt = self.jwt.as_ref().ok_or(Rejection::SchemeNotAccepted)?;
        let data = jsonwebtoken::decode::<Claims>(token, &jwt.key, &jwt.validation()).map_err(
            |e| match e.kind() {
                ErrorKind::ExpiredSignature => Rejection::Expired,
                ErrorKind::ImmatureSignature => Rejection::NotYetValid,
                ErrorKind::InvalidIssuer => Rejection::WrongIssuer,
                ErrorKind::InvalidAudience => Rejection::WrongAudience,
                ErrorKind::MissingRequiredClaim(_) => Rejection::MissingClaim,
                ErrorKind::InvalidSignature
                | ErrorKind::InvalidAlgorithm
                | ErrorKind::InvalidAlgorithmName
                | ErrorKind::UnsupportedAlgorithm
                | ErrorKind::InvalidRsaKey(_)
                | ErrorKind::InvalidKeyFormat => Rejection::BadSignature,
                _ => Rejection::Malformed,
            },
        )?;
        let claims = data.claims;
        if claims.sub.trim().is_empty() {
            return Err(Rejection::MissingClaim);
        }
        Ok(Identity {
            subject: Actor::new(&claims.sub).id,
            actor: Actor::new(&describe(&claims)),
            role: self.role_groups.role_for(claims.groups.iter()),
        })
    }

    /// Finds the API key whose SHA-256 matches, comparing every configured hash in
    /// constant time.
    pub fn verify_api_key(&self, key: &str) -> Result<Identity, Rejection> {
        if self.api_keys.is_empty() {
            return Err(Rejection::SchemeNotAccepted);
        }
        let presented = sha256(key.as_bytes());
        let mut found: Option<&ApiKey> = None;
        for candidate in &self.api_keys {
            // No early exit: the time taken does not depend on which key matched.
            if bool::from(candidate.sha256.ct_eq(&presented)) {
                found = Some(candidate);
            }
        }
        let key = found.ok_or(Rejection::UnknownKey)?;
        let subject = format!("api-key:{}", key.label);
        Ok(Identity {
            actor: Actor::new(&subject),
            subject,
            role: Some(key.role),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn roles_include_lower_roles() {
        assert!(Role::Manager.includes(Role::Reader));
        assert!(Role::Editor.includes(Role::Editor));
        assert!(!Role::Reader.includes(Role::Editor));
        assert!(!Role::Editor.includes(Role::Manager));
    }

    #[test]
    fn role_groups_grant_the_highest_role_of_the_callers_groups() {
        let g = RoleGroups::parse(
            "reader=housing-readers; editor=housing-editors,ops ;manager=housing-managers",
        )
        .unwrap();
        assert_eq!(g.role_for(["housing-readers"]), Some(Role::Reader));
        assert_eq!(g.role_for(["ops", "housing-readers"]), Some(Role::Editor));
        assert_eq!(g.role_for(["housing-managers", "ops"]), Some(Role::Manager));
        assert_eq!(g.role_for(["Housing-Readers"]), None);
        assert!(RoleGroups::parse("boss=x").is_err());
        assert!(RoleGroups::parse("reader").is_err());
        assert!(RoleGroups::parse("reader=a,,b").is_err());
    }

    #[test]
    fn api_keys_parse_with_and_without_labels() {
        let h1 = hex(&sha256(b"one"));
        let h2 = hex(&sha256(b"two")).to_uppercase();
        let keys = ApiKey::parse_list(&format!("reader:{h1}, qlik=editor:{h2}")).unwrap();
        assert_eq!(keys[0].label, format!("key-{}", &h1[..8]));
        assert_eq!(keys[0].role, Role::Reader);
        assert_eq!(keys[1].label, "qlik");
        assert_eq!(keys[1].role, Role::Editor);
        assert!(ApiKey::parse_list("reader:abc").is_err());
        assert!(ApiKey::parse_list(&format!("admin:{h1}")).is_err());
        assert!(ApiKey::parse_list(&format!("bad label=reader:{h1}")).is_err());
        assert!(ApiKey::parse_list(&format!("reader:{h1},editor:{h1}")).is_err());
        assert!(
            ApiKey::parse_list(&format!("a=reader:{h1},a=editor:{}", hex(&sha256(b"x")))).is_err()
        );
    }

    #[test]
    fn api_keys_match_by_hash_only() {
        let keys =
            ApiKey::parse_list(&format!("powerbi=reader:{}", hex(&sha256(b"s3cret")))).unwrap();
        let auth = Authenticator::api_keys(keys);
        let who = auth.verify_api_key("s3cret").unwrap();
        assert_eq!(who.subject, "api-key:powerbi");
        assert_eq!(who.actor.id, "api-key:powerbi");
        assert_eq!(who.role, Some(Role::Reader));
        assert_eq!(auth.verify_api_key("s3cret "), Err(Rejection::UnknownKey));
        assert_eq!(
            auth.verify_bearer("x.y.z"),
            Err(Rejection::SchemeNotAccepted)
        );
    }

    #[test]
    fn secrets_and_keys_are_redacted_in_debug_output() {
        let secret = Secret::new("super-secret-value-that-must-not-leak");
        assert!(!format!("{secret:?}").contains("super-secret"));
        let h = hex(&sha256(b"k"));
        let keys = ApiKey::parse_list(&format!("reader:{h}")).unwrap();
        assert!(!format!("{keys:?}").contains(&h[8..]));
    }

    #[test]
    fn short_hs256_secrets_are_refused() {
        assert!(JwtSettings::hs256(&Secret::new("short")).is_err());
        assert!(JwtSettings::hs256(&Secret::new("x".repeat(32))).is_ok());
    }

    #[test]
    fn a_private_key_is_refused_as_the_public_key() {
        let pem = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(JwtSettings::rs256(pem).unwrap_err().contains("private key"));
    }

    #[test]
    fn history_names_the_subject_with_name_and_email() {
        let claims: Claims = serde_json::from_value(serde_json::json!({
            "sub": "u1", "name": "Jane Doe", "email": "jane@example.org", "groups": "g"
        }))
        .unwrap();
        assert_eq!(describe(&claims), "u1 (Jane Doe <jane@example.org>)");
        assert_eq!(claims.groups.iter().collect::<Vec<_>>(), ["g"]);
        let claims: Claims = serde_json::from_value(
            serde_json::json!({ "sub": "u2", "preferred_username": "u2@x.org" }),
        )
        .unwrap();
        assert_eq!(describe(&claims), "u2 (<u2@x.org>)");
    }
}
