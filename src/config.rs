//! Configuration from environment variables, an optional TOML file (`--config FILE`)
//! and command-line flags (strongest last). A bad value stops start-up with a message
//! naming the variable.
//!
//! In the TOML file each key is the variable's name, either as written
//! (`PATCHES_LISTEN`) or lower-case without the prefix (`listen`, `database_url`).

use std::{collections::BTreeMap, net::SocketAddr, path::Path};

/// Every variable the service reads, with its default.
pub const VARIABLES: &[(&str, &str)] = &[
    ("PATCHES_LISTEN", "127.0.0.1:8080"),
    ("DATABASE_URL", "sqlite://./data/patches.db"),
    ("PATCHES_DEMO_DATA", "true"),
    ("PATCHES_AUTH", "none"),
    ("PATCHES_JWT_SECRET", ""),
    ("PATCHES_JWT_PUBLIC_KEY", ""),
    ("PATCHES_ROLE_GROUPS", ""),
    ("PATCHES_API_KEYS", ""),
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

/// How callers authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// No authentication: local use on a loopback address only.
    None,
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
    /// Authentication mode.
    pub auth: AuthMode,
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
        let auth = match self
            .get("PATCHES_AUTH")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "none" => AuthMode::None,
            "jwt" => {
                return Err(error(
                    "PATCHES_AUTH",
                    "`jwt` is not available in this version yet; only `none` (on a loopback address) is",
                ));
            }
            other => {
                return Err(error(
                    "PATCHES_AUTH",
                    format!("must be `none` or `jwt`, not `{other}`"),
                ));
            }
        };
        if auth == AuthMode::None && !listen.ip().is_loopback() {
            return Err(error(
                "PATCHES_AUTH",
                format!(
                    "`none` is allowed only on a loopback address, but PATCHES_LISTEN is {listen}; \
                     listen on 127.0.0.1 or configure authentication"
                ),
            ));
        }
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
            max_page_size,
            public_url,
            query_timeout_ms,
            log,
            log_format,
        })
    }
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
    }

    #[test]
    fn auth_none_is_refused_on_a_public_address() {
        let mut src = Sources::default();
        src.set("PATCHES_LISTEN", "0.0.0.0:8080");
        let e = src.settings().unwrap_err();
        assert_eq!(e.variable, "PATCHES_AUTH");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("PATCHES_LISTEN", "nowhere"),
            ("PATCHES_DEMO_DATA", "maybe"),
            ("PATCHES_MAX_PAGE_SIZE", "0"),
            ("PATCHES_LOG_FORMAT", "xml"),
            ("DATABASE_URL", "postgres://x"),
        ] {
            let mut src = Sources::default();
            src.set(name, value);
            assert_eq!(src.settings().unwrap_err().variable, name);
        }
    }
}
