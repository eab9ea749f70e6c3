//! Configuration from environment variables, an optional TOML file (`--config FILE`)
//! and command-line flags (strongest last). A bad value stops start-up with a message
//! naming the variable.
//!
//! In the TOML file each key is the variable's name, either as written
//! (`PATCHES_LISTEN`) or lower-case without the prefix (`listen`, `database_url`).

use std::{collections::BTreeMap, net::SocketAddr, path::Path};

pub use crate::auth::AuthMode;
use crate::auth::{ApiKey, Authenticator, JwtSettings, RoleGroups, Secret};

/// Every variable the service reads, with its default.
pub const VARIABLES: &[(&str, &str)] = &[
    ("PATCHES_LISTEN", "127.0.0.1:8080"),
    ("DATABASE_URL", "sqlite://./data/patches.db"),
    ("PATCHES_DEMO_DATA", "true"),
    ("PATCHES_AUTH", "none"),
    ("PATCHES_JWT_SECRET", ""),
    ("PATCHES_JWT_PUBLIC_KEY", ""),
    ("PATCHES_JWT_ISSUER", ""),
    ("PATCHES_JWT_AUDIENCE", ""),
    ("PATCHES_ROLE_GROUPS", ""),
    ("PATCHES_API_KEYS", ""),
    ("PATCHES_CORS_ORIGINS", ""),
    ("PATCHES_MAX_BODY_BYTES", "1048576"),
    ("PATCHES_REQUEST_TIMEOUT_MS", "60000"),
    ("PATCHES_MAX_PAGE_SIZE", "1000"),
    ("PATCHES_PUBLIC_URL", ""),
    ("PATCHES_QUERY_TIMEOUT_MS", "30000"),
    ("PATCHES_LOG", "info"),
    ("PATCHES_LOG_FORMAT", "pretty"),
];

/// A configuration value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The variable at fault.
    pub variable: String,
    /// Why.
    pub message: String,
}

fn error(variable: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: variable.to_string(),
        message: message.into(),
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event.
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The service's settings, every value checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Address and port to listen on (port 0 picks a free one).
    pub listen: SocketAddr,
    /// `sqlite://PATH` or an SQL Server ADO.NET connection string.
    pub database_url: String,
    /// Load demo data into an empty database at start-up.
    pub demo_data: bool,
    /// Authentication: the mode and everything needed to check credentials.
    pub auth: Authenticator,
    /// Browser origins allowed to call the API (CORS), lower-case, no trailing `/`.
    pub cors_origins: Vec<String>,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// Time a handler may take before the request answers 503, in milliseconds.
    pub request_timeout_ms: u64,
    /// Largest reporting page.
    pub max_page_size: u32,
    /// External base URL used in links, without a trailing `/`.
    pub public_url: Option<String>,
    /// Statement timeout for reporting queries, in milliseconds.
    pub query_timeout_ms: u64,
    /// Log filter (`info`, `patches=debug`, …).
    pub log: String,
    /// Log format.
    pub log_format: LogFormat,
}

/// Raw values by variable name, before checking.
#[derive(Debug, Clone, Default)]
pub struct Sources(BTreeMap<String, String>);

impl Sources {
    /// Defaults, then `file` (if any), then the process environment.
    pub fn gather(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut sources = Sources::default();
        if let Some(path) = file {
            sources.merge_toml(path)?;
        }
        for (name, _) in VARIABLES {
            if let Ok(v) = std::env::var(name) {
                sources.set(name, v);
            }
        }
        Ok(sources)
    }

    /// Sets one variable (flags use this, overriding everything else).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.insert(name.to_string(), value.into());
    }

    fn merge_toml(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| error("--config", format!("cannot read {}: {e}", path.display())))?;
        let table: toml::Table = toml::from_str(&text)
            .map_err(|e| error("--config", format!("{}: {e}", path.display())))?;
        for (key, value) in table {
            let upper = key.to_ascii_uppercase();
            let name = VARIABLES
                .iter()
                .map(|(n, _)| *n)
                .find(|n| *n == upper || n.strip_prefix("PATCHES_") == Some(upper.as_str()))
                .ok_or_else(|| {
                    error(
                        "--config",
                        format!("unknown setting `{key}` in {}", path.display()),
                    )
                })?;
            let text = match value {
                toml::Value::String(s) => s,
                other => other.to_string(),
            };
            self.set(name, text);
        }
        Ok(())
    }

    fn get(&self, name: &str) -> &str {
        self.0.get(name).map(String::as_str).unwrap_or_else(|| {
            VARIABLES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| *d)
                .unwrap_or("")
        })
    }

    /// Checks every value and builds the settings.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let listen: SocketAddr = self.get("PATCHES_LISTEN").parse().map_err(|_| {
            error(
                "PATCHES_LISTEN",
                "must be an address and port such as 127.0.0.1:8080",
            )
        })?;
        let database_url = self.get("DATABASE_URL").trim().to_string();
        if database_url.is_empty() {
            return Err(error("DATABASE_URL", "must not be empty"));
        }
        if !database_url.starts_with("sqlite://")
            && !database_url.to_ascii_lowercase().contains("server=")
        {
            return Err(error(
                "DATABASE_URL",
                "must be sqlite://PATH or an SQL Server ADO.NET string (server=tcp:host,1433;…)",
            ));
        }
        let demo_data = parse_bool("PATCHES_DEMO_DATA", self.get("PATCHES_DEMO_DATA"))?;
        let auth = self.authenticator(listen)?;
        let cors_origins = self.cors_origins()?;
        let max_body_bytes: usize = self
            .get("PATCHES_MAX_BODY_BYTES")
            .parse()
            .ok()
            .filter(|v| (1024..=64 * 1024 * 1024).contains(v))
            .ok_or_else(|| {
                error(
                    "PATCHES_MAX_BODY_BYTES",
                    "must be a number of bytes from 1024 to 67108864",
                )
            })?;
        let request_timeout_ms: u64 = self
            .get("PATCHES_REQUEST_TIMEOUT_MS")
            .parse()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                error(
                    "PATCHES_REQUEST_TIMEOUT_MS",
                    "must be a positive number of milliseconds",
                )
            })?;
        let max_page_size: u32 = self
            .get("PATCHES_MAX_PAGE_SIZE")
            .parse()
            .ok()
            .filter(|v| (1..=100_000).contains(v))
            .ok_or_else(|| {
                error(
                    "PATCHES_MAX_PAGE_SIZE",
                    "must be a whole number from 1 to 100000",
                )
            })?;
        let public_url = match self.get("PATCHES_PUBLIC_URL").trim() {
            "" => None,
            u if u.starts_with("http://") || u.starts_with("https://") => {
                Some(u.trim_end_matches('/').to_string())
            }
            _ => {
                return Err(error(
                    "PATCHES_PUBLIC_URL",
                    "must start with http:// or https://",
                ));
            }
        };
        let query_timeout_ms: u64 = self
            .get("PATCHES_QUERY_TIMEOUT_MS")
            .parse()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| {
                error(
                    "PATCHES_QUERY_TIMEOUT_MS",
                    "must be a positive number of milliseconds",
                )
            })?;
        let log_format = match self
            .get("PATCHES_LOG_FORMAT")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                return Err(error(
                    "PATCHES_LOG_FORMAT",
                    format!("must be `pretty` or `json`, not `{other}`"),
                ));
            }
        };
        let log = self.get("PATCHES_LOG").to_string();
        tracing_subscriber::EnvFilter::try_new(&log)
            .map_err(|e| error("PATCHES_LOG", format!("not a valid filter: {e}")))?;
        Ok(Settings {
            listen,
            database_url,
            demo_data,
            auth,
            cors_origins,
            max_body_bytes,
            request_timeout_ms,
            max_page_size,
            public_url,
            query_timeout_ms,
            log,
            log_format,
        })
    }
}

impl Sources {
    fn is_set(&self, name: &str) -> bool {
        !self.get(name).trim().is_empty()
    }

    /// Checks `PATCHES_AUTH` and the variables it needs, and refuses settings that are
    /// set but would be ignored (a key configured with `none` protects nothing).
    fn authenticator(&self, listen: SocketAddr) -> Result<Authenticator, ConfigError> {
        let mode =
            AuthMode::parse(self.get("PATCHES_AUTH")).map_err(|m| error("PATCHES_AUTH", m))?;
        let role_groups = RoleGroups::parse(self.get("PATCHES_ROLE_GROUPS"))
            .map_err(|m| error("PATCHES_ROLE_GROUPS", m))?;
        let api_keys = ApiKey::parse_list(self.get("PATCHES_API_KEYS"))
            .map_err(|m| error("PATCHES_API_KEYS", m))?;
        let unused = |names: &[&str], why: &str| -> Result<(), ConfigError> {
            match names.iter().find(|n| self.is_set(n)) {
                Some(name) => Err(error(name, why)),
                None => Ok(()),
            }
        };
        match mode {
            AuthMode::None => {
                if !listen.ip().is_loopback() {
                    return Err(error(
                        "PATCHES_AUTH",
                        format!(
                            "`none` is allowed only on a loopback address, but PATCHES_LISTEN is {listen}; \
                             listen on 127.0.0.1 or configure authentication (`jwt` or `api-keys`)"
                        ),
                    ));
                }
                unused(
                    &[
                        "PATCHES_JWT_SECRET",
                        "PATCHES_JWT_PUBLIC_KEY",
                        "PATCHES_API_KEYS",
                    ],
                    "is set but PATCHES_AUTH is `none`, which checks no credentials; \
                     set PATCHES_AUTH to `jwt` or `api-keys`, or remove this setting",
                )?;
                Ok(Authenticator::none())
            }
            AuthMode::ApiKeys => {
                unused(
                    &["PATCHES_JWT_SECRET", "PATCHES_JWT_PUBLIC_KEY"],
                    "is set but PATCHES_AUTH is `api-keys`, which accepts no tokens; \
                     set PATCHES_AUTH=jwt to accept tokens too",
                )?;
                if api_keys.is_empty() {
                    return Err(error(
                        "PATCHES_API_KEYS",
                        "PATCHES_AUTH=api-keys needs at least one key (`label=role:sha256hex`)",
                    ));
                }
                Ok(Authenticator::api_keys(api_keys))
            }
            AuthMode::Jwt => {
                let jwt = match (
                    self.is_set("PATCHES_JWT_SECRET"),
                    self.is_set("PATCHES_JWT_PUBLIC_KEY"),
                ) {
                    (true, true) => {
                        return Err(error(
                            "PATCHES_JWT_PUBLIC_KEY",
                            "set either PATCHES_JWT_SECRET (HS256) or PATCHES_JWT_PUBLIC_KEY (RS256), not both",
                        ));
                    }
                    (false, false) => {
                        return Err(error(
                            "PATCHES_JWT_SECRET",
                            "PATCHES_AUTH=jwt needs PATCHES_JWT_SECRET (HS256) or PATCHES_JWT_PUBLIC_KEY (RS256)",
                        ));
                    }
                    (true, false) => {
                        JwtSettings::hs256(&Secret::new(self.get("PATCHES_JWT_SECRET").trim()))
                            .map_err(|m| error("PATCHES_JWT_SECRET", m))?
                    }
                    (false, true) => {
                        let value = self.get("PATCHES_JWT_PUBLIC_KEY").trim();
                        // A PEM may be given inline (containers) or as a file path.
                        let pem = if value.starts_with("-----BEGIN") {
                            value.as_bytes().to_vec()
                        } else {
                            std::fs::read(value).map_err(|e| {
                                error(
                                    "PATCHES_JWT_PUBLIC_KEY",
                                    format!("cannot read {value}: {e}"),
                                )
                            })?
                        };
                        JwtSettings::rs256(&pem).map_err(|m| error("PATCHES_JWT_PUBLIC_KEY", m))?
                    }
                };
                if role_groups.is_empty() {
                    return Err(error(
                        "PATCHES_ROLE_GROUPS",
                        "PATCHES_AUTH=jwt needs it, e.g. \
                         reader=housing-readers;editor=housing-editors;manager=housing-managers \
                         (without it no token grants any role)",
                    ));
                }
                let jwt = jwt
                    .with_issuers(list(self.get("PATCHES_JWT_ISSUER")))
                    .with_audiences(list(self.get("PATCHES_JWT_AUDIENCE")));
                Ok(Authenticator::jwt(jwt, role_groups, api_keys))
            }
        }
    }

    fn cors_origins(&self) -> Result<Vec<String>, ConfigError> {
        list(self.get("PATCHES_CORS_ORIGINS"))
            .into_iter()
            .map(|o| {
                let o = o.trim_end_matches('/').to_ascii_lowercase();
                let host = o
                    .strip_prefix("https://")
                    .or_else(|| o.strip_prefix("http://"))
                    .unwrap_or("");
                if host.is_empty() || host.contains('/') || host.contains('*') {
                    Err(error(
                        "PATCHES_CORS_ORIGINS",
                        format!(
                            "`{o}` is not an origin such as https://mmh.example.org (scheme, host and \
                             optional port; no path, no wildcard)"
                        ),
                    ))
                } else {
                    Ok(o)
                }
            })
            .collect()
    }
}

/// Splits a comma-separated list, dropping empty items.
fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(error(name, format!("must be true or false, not `{other}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let s = Sources::default().settings().unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
        assert!(s.demo_data);
        assert_eq!(s.auth.mode(), AuthMode::None);
        assert_eq!(s.max_body_bytes, 1024 * 1024);
        assert!(s.cors_origins.is_empty());
    }

    #[test]
    fn auth_none_is_refused_on_a_public_address() {
        let mut src = Sources::default();
        src.set("PATCHES_LISTEN", "0.0.0.0:8080");
        let e = src.settings().unwrap_err();
        assert_eq!(e.variable, "PATCHES_AUTH");
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const KEY_HASH: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

    fn with(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut src = Sources::default();
        for (k, v) in pairs {
            src.set(k, *v);
        }
        src.settings()
    }

    #[test]
    fn jwt_and_api_keys_may_listen_on_a_public_address() {
        let s = with(&[
            ("PATCHES_LISTEN", "0.0.0.0:8080"),
            ("PATCHES_AUTH", "jwt"),
            ("PATCHES_JWT_SECRET", SECRET),
            ("PATCHES_ROLE_GROUPS", "reader=r;editor=e;manager=m"),
            ("PATCHES_API_KEYS", &format!("qlik=reader:{KEY_HASH}")),
        ])
        .unwrap();
        assert_eq!(s.auth.mode(), AuthMode::Jwt);
        assert!(s.auth.accepts_api_keys());
        let s = with(&[
            ("PATCHES_LISTEN", "0.0.0.0:8080"),
            ("PATCHES_AUTH", "api-keys"),
            ("PATCHES_API_KEYS", &format!("reader:{KEY_HASH}")),
        ])
        .unwrap();
        assert_eq!(s.auth.mode(), AuthMode::ApiKeys);
    }

    #[test]
    fn incomplete_or_contradictory_auth_settings_name_the_variable_to_fix() {
        let groups = ("PATCHES_ROLE_GROUPS", "reader=r");
        let keys = format!("reader:{KEY_HASH}");
        for (pairs, variable) in [
            (vec![("PATCHES_AUTH", "jwt"), groups], "PATCHES_JWT_SECRET"),
            (
                vec![("PATCHES_AUTH", "jwt"), ("PATCHES_JWT_SECRET", SECRET)],
                "PATCHES_ROLE_GROUPS",
            ),
            (
                vec![
                    ("PATCHES_AUTH", "jwt"),
                    ("PATCHES_JWT_SECRET", "short"),
                    groups,
                ],
                "PATCHES_JWT_SECRET",
            ),
            (
                vec![
                    ("PATCHES_AUTH", "jwt"),
                    ("PATCHES_JWT_SECRET", SECRET),
                    ("PATCHES_JWT_PUBLIC_KEY", "/nowhere.pem"),
                    groups,
                ],
                "PATCHES_JWT_PUBLIC_KEY",
            ),
            (
                vec![
                    ("PATCHES_AUTH", "jwt"),
                    ("PATCHES_JWT_PUBLIC_KEY", "/nowhere.pem"),
                    groups,
                ],
                "PATCHES_JWT_PUBLIC_KEY",
            ),
            (vec![("PATCHES_AUTH", "api-keys")], "PATCHES_API_KEYS"),
            (
                vec![
                    ("PATCHES_AUTH", "api-keys"),
                    ("PATCHES_API_KEYS", &keys),
                    ("PATCHES_JWT_SECRET", SECRET),
                ],
                "PATCHES_JWT_SECRET",
            ),
            // Keys with auth off would protect nothing: refuse rather than ignore them.
            (vec![("PATCHES_API_KEYS", &keys)], "PATCHES_API_KEYS"),
            (
                vec![("PATCHES_API_KEYS", "reader:nothex")],
                "PATCHES_API_KEYS",
            ),
            (
                vec![("PATCHES_ROLE_GROUPS", "admin=x")],
                "PATCHES_ROLE_GROUPS",
            ),
            (vec![("PATCHES_AUTH", "basic")], "PATCHES_AUTH"),
        ] {
            assert_eq!(with(&pairs).unwrap_err().variable, variable, "{pairs:?}");
        }
    }

    #[test]
    fn cors_origins_are_exact_origins() {
        let s = with(&[(
            "PATCHES_CORS_ORIGINS",
            "https://MMH.example.org/, http://localhost:3000",
        )])
        .unwrap();
        assert_eq!(
            s.cors_origins,
            ["https://mmh.example.org", "http://localhost:3000"]
        );
        for bad in [
            "*",
            "mmh.example.org",
            "https://x.org/app",
            "https://*.x.org",
        ] {
            assert_eq!(
                with(&[("PATCHES_CORS_ORIGINS", bad)]).unwrap_err().variable,
                "PATCHES_CORS_ORIGINS"
            );
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("PATCHES_LISTEN", "nowhere"),
            ("PATCHES_DEMO_DATA", "maybe"),
            ("PATCHES_MAX_PAGE_SIZE", "0"),
            ("PATCHES_LOG_FORMAT", "xml"),
            ("DATABASE_URL", "postgres://x"),
            ("PATCHES_MAX_BODY_BYTES", "10"),
            ("PATCHES_REQUEST_TIMEOUT_MS", "0"),
        ] {
            let mut src = Sources::default();
            src.set(name, value);
            assert_eq!(src.settings().unwrap_err().variable, name);
        }
    }
}
