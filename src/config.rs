//! Node configuration: an optional TOML file, overlaid by `FIKA_*` environment variables.
//!
//! `FIKA_SECTION_KEY` sets `key` in `[section]` (`FIKA_DATABASE_URL` → `database.url`), and
//! `FIKA_KEY` sets a top-level key (`FIKA_DATA_DIR` → `data_dir`). Errors name the key.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Sections of the file; an environment variable `FIKA_<SECTION>_<KEY>` maps into them.
const SECTIONS: &[&str] = &[
    "server",
    "database",
    "log",
    "admin",
    "oauth",
    "media",
    "limits",
    "federation",
    "metrics",
    "statuses",
    "accounts",
    "groups",
    "console",
];
/// Top-level keys that contain an underscore, so `FIKA_DATA_DIR` is not read as `[data] dir`.
const TOP_LEVEL_KEYS: &[&str] = &["data_dir"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the SQLite database, keys and media live.
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub log: LogConfig,
    pub admin: AdminConfig,
    pub oauth: OAuthConfig,
    pub media: MediaConfig,
    pub limits: LimitsConfig,
    pub federation: FederationConfig,
    pub metrics: MetricsConfig,
    pub statuses: StatusesConfig,
    pub accounts: AccountsConfig,
    pub groups: GroupsConfig,
    pub console: ConsoleConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsConfig {
    /// Whether new accounts start discoverable: listed in the directory and found by profile
    /// search (bio, fields, featured tags) here and on peers. Users change it in their
    /// profile (`discoverable`); a handle lookup finds everyone either way.
    pub default_discoverable: bool,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        AccountsConfig {
            default_discoverable: true,
        }
    }
}

/// The web console (`/admin`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// A session ends after this many minutes without a request.
    pub idle_minutes: u32,
    /// The console's accent colour, `#rrggbb` (each node can have its own).
    pub accent_colour: String,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            idle_minutes: 30,
            accent_colour: "#2457a6".into(),
        }
    }
}

/// Who may create groups over the API (`fika admin group create` is always allowed).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum GroupCreators {
    #[default]
    Everyone,
    Moderators,
    Admins,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct GroupsConfig {
    /// `everyone`, `moderators` (moderators and admins) or `admins`.
    pub creators: GroupCreators,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StatusesConfig {
    /// Keep statuses on this node (department-only) unless the app says otherwise: for apps
    /// that cannot send `local_only` or `visibility: "local"`. Apps that send
    /// `local_only: false` still federate. Shown to apps in `/api/v1/instance` and
    /// `/api/v2/instance` as `configuration.statuses.default_local_only`.
    pub default_local_only: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Addresses (`10.0.0.0/8`, `::1`) that may read `/metrics` without a token; admins' tokens
    /// always may.
    pub allowed_addresses: Vec<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            allowed_addresses: vec!["127.0.0.1/32".into(), "::1/128".into()],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FederationConfig {
    /// `allowlist`: only `allowed_domains` federate. `blocklist`: all but `blocked_domains`.
    pub mode: fika_federation::policy::Mode,
    /// Peer domains (`host` or `host:port`) this node federates with, as nodes of the
    /// organisation (tier `org`): they receive every public status and list theirs here.
    pub allowed_domains: Vec<String>,
    /// Peer domains allowed as partners (tier `partner`): they federate only through follows
    /// and mentions.
    pub partner_domains: Vec<String>,
    /// Recent public statuses fetched from a peer when it becomes an `org` peer, so the
    /// federated timeline of a new node does not start empty. 0 turns the backfill off.
    pub backfill_statuses: u32,
    /// Peer domains refused in either mode; a block wins over an allow.
    pub blocked_domains: Vec<String>,
    /// A file of allowed peer domains, one per line (`#` starts a comment), read at start and
    /// whenever the policy reloads: for configuration-management tools. A line may name the
    /// tier after the domain (`c.example partner`); the default is `org`.
    pub allowlist_file: Option<PathBuf>,
    /// Talk plain HTTP to peers (tests and labs only).
    pub allow_http: bool,
    /// First retry delay of a failed delivery; each later one doubles, up to 4 hours.
    pub retry_base_seconds: u64,
    /// Attempts before a delivery is given up (dead-lettered). The default spreads them over
    /// about a day.
    pub max_attempts: u32,
    /// Deliveries in flight at once, to all peers together.
    pub concurrency: usize,
    /// Deliveries in flight at once to one peer, so a slow or dead peer cannot take every
    /// slot from the healthy ones.
    pub per_peer_concurrency: usize,
    /// Seconds a request to a peer may take.
    pub timeout_seconds: u64,
    /// First retry delay of an accepted activity whose processing failed for a reason that may
    /// pass (a referenced object could not be fetched); each later one doubles, up to 4 hours.
    pub inbox_retry_base_seconds: u64,
    /// Attempts at processing an accepted activity. After the last one a reply whose parent
    /// could not be fetched is stored without it; anything else failing is dropped.
    pub inbox_max_attempts: u32,
}

impl Default for FederationConfig {
    fn default() -> Self {
        FederationConfig {
            mode: fika_federation::policy::Mode::Allowlist,
            allowed_domains: vec![],
            partner_domains: vec![],
            backfill_statuses: 200,
            blocked_domains: vec![],
            allowlist_file: None,
            allow_http: false,
            retry_base_seconds: 30,
            max_attempts: 14,
            concurrency: 64,
            per_peer_concurrency: 8,
            timeout_seconds: 10,
            inbox_retry_base_seconds: 30,
            inbox_max_attempts: 8,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthConfig {
    /// Allow the OAuth `password` grant (removed from Mastodon 4.4; for test tools and
    /// scripted clients only). Listed in the discovery document only when on.
    pub password_grant: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// Largest image upload, in bytes.
    pub max_image_bytes: usize,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            max_image_bytes: 16 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Client API requests allowed per access token (or per address, without one) in each
    /// window; Mastodon's default is 300 per 5 minutes.
    pub requests_per_window: u32,
    pub window_seconds: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            requests_per_window: 300,
            window_seconds: 300,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Public domain of the node (host, plus `:port` if not the scheme's default). Taken from
    /// `listen` when that is a loopback address; required otherwise.
    pub domain: Option<String>,
    /// Serve the public URL as plain `http://` although the domain is not loopback (labs only).
    pub insecure_http: bool,
    /// Name shown to apps and peers.
    pub node_name: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` names the client:
    /// rate limits and `/metrics` access then go by the client's address, not the proxy's.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://...`; empty means `DATA_DIR/fika.db`.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter such as `info` or `fika=debug,info`; `RUST_LOG` wins when set.
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Username of the admin account created on the first start of an empty node; empty to
    /// create none.
    pub initial_username: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("fika-data"),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            log: LogConfig::default(),
            admin: AdminConfig::default(),
            oauth: OAuthConfig::default(),
            media: MediaConfig::default(),
            limits: LimitsConfig::default(),
            federation: FederationConfig::default(),
            metrics: MetricsConfig::default(),
            statuses: StatusesConfig::default(),
            accounts: AccountsConfig::default(),
            groups: GroupsConfig::default(),
            console: ConsoleConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            domain: None,
            insecure_http: false,
            node_name: "fika".into(),
            max_body_bytes: 1024 * 1024,
            trusted_proxies: vec!["127.0.0.1/32".into(), "::1/128".into()],
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: String::new(),
            max_connections: 8,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            initial_username: "admin".into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
    /// figment's message already names the key and where its value came from.
    #[error("configuration: {0}")]
    Parse(String),
    #[error("configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// Which database engine a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Config {
    /// Loads defaults, then `file` (which must exist if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.to_owned(),
                    message: "not found".into(),
                });
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(env_provider());
        let config: Config = figment
            .extract()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(domain) = &self.server.domain {
            validate_domain(domain).map_err(|message| ConfigError::Invalid {
                key: "server.domain",
                message,
            })?;
        } else if !self.server.listen.ip().is_loopback() {
            return Err(ConfigError::Invalid {
                key: "server.domain",
                message: format!(
                    "must be set when server.listen ({}) is not a loopback address",
                    self.server.listen
                ),
            });
        }
        if self.server.max_body_bytes < 1024 {
            return Err(ConfigError::Invalid {
                key: "server.max_body_bytes",
                message: "must be at least 1024".into(),
            });
        }
        if self.server.node_name.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "server.node_name",
                message: "must not be empty".into(),
            });
        }
        let colour = &self.console.accent_colour;
        if !(colour.len() == 7
            && colour.starts_with('#')
            && colour[1..].chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(ConfigError::Invalid {
                key: "console.accent_colour",
                message: "must be a colour like #2457a6".into(),
            });
        }
        if self.console.idle_minutes == 0 {
            return Err(ConfigError::Invalid {
                key: "console.idle_minutes",
                message: "must be at least 1".into(),
            });
        }
        if !self.database.url.is_empty() {
            self.backend()?;
        }
        if self.media.max_image_bytes < 1024 {
            return Err(ConfigError::Invalid {
                key: "media.max_image_bytes",
                message: "must be at least 1024".into(),
            });
        }
        if self.limits.requests_per_window == 0 || self.limits.window_seconds == 0 {
            return Err(ConfigError::Invalid {
                key: "limits.requests_per_window",
                message: "requests_per_window and window_seconds must be at least 1".into(),
            });
        }
        if self.federation.max_attempts == 0 || self.federation.concurrency == 0 {
            return Err(ConfigError::Invalid {
                key: "federation.max_attempts",
                message: "max_attempts and concurrency must be at least 1".into(),
            });
        }
        if self.federation.inbox_max_attempts == 0 {
            return Err(ConfigError::Invalid {
                key: "federation.inbox_max_attempts",
                message: "must be at least 1".into(),
            });
        }
        if self.federation.inbox_retry_base_seconds == 0 {
            return Err(ConfigError::Invalid {
                key: "federation.inbox_retry_base_seconds",
                message: "must be at least 1".into(),
            });
        }
        for d in self
            .federation
            .allowed_domains
            .iter()
            .chain(&self.federation.partner_domains)
            .chain(&self.federation.blocked_domains)
        {
            validate_domain(d).map_err(|message| ConfigError::Invalid {
                key: "federation.allowed_domains",
                message,
            })?;
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid {
                key: "database.max_connections",
                message: "must be at least 1".into(),
            });
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level).map_err(|e| {
            ConfigError::Invalid {
                key: "log.level",
                message: e.to_string(),
            }
        })?;
        let name = &self.admin.initial_username;
        if !name.is_empty() {
            crate::names::check_username(name).map_err(|message| ConfigError::Invalid {
                key: "admin.initial_username",
                message,
            })?;
        }
        Ok(())
    }

    pub fn backend(&self) -> Result<Backend, ConfigError> {
        let url = self.database_url();
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(ConfigError::Invalid {
                key: "database.url",
                message: "must start with sqlite:, postgres:// or postgresql://".into(),
            })
        }
    }

    /// The database URL, defaulting to a SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("fika.db").display())
        } else {
            self.database.url.clone()
        }
    }

    /// The public domain for a node that ended up listening on `bound` (which differs from
    /// `server.listen` when that asked for port 0).
    pub fn public_domain(&self, bound: SocketAddr) -> String {
        match &self.server.domain {
            Some(d) => d.to_ascii_lowercase(),
            None => match bound.ip() {
                IpAddr::V6(ip) => format!("[{ip}]:{}", bound.port()),
                IpAddr::V4(ip) => format!("{ip}:{}", bound.port()),
            },
        }
    }

    /// `http` only for a loopback domain or when explicitly allowed; `https` otherwise.
    pub fn public_scheme(&self, domain: &str) -> &'static str {
        if self.server.insecure_http || is_loopback_domain(domain) {
            "http"
        } else {
            "https"
        }
    }
}

/// Is `domain` (host with optional port) a name or address that only this machine reaches?
pub fn is_loopback_domain(domain: &str) -> bool {
    let host = match domain.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => domain.rsplit_once(':').map_or(domain, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn validate_domain(domain: &str) -> Result<(), String> {
    if domain.is_empty() {
        return Err("must not be empty".into());
    }
    if domain.contains("://") || domain.contains('/') {
        return Err(format!(
            "{domain:?} must be a host name (with an optional :port), not a URL"
        ));
    }
    let url = url::Url::parse(&format!("https://{domain}/"))
        .map_err(|e| format!("{domain:?} is not a valid host: {e}"))?;
    if url.host_str().is_none() || !url.username().is_empty() {
        return Err(format!("{domain:?} is not a valid host"));
    }
    Ok(())
}

fn env_provider() -> Env {
    Env::prefixed("FIKA_")
        .map(|key| {
            let key = key.as_str().to_ascii_lowercase();
            if TOP_LEVEL_KEYS.contains(&key.as_str()) {
                return key.into();
            }
            match key.split_once('_') {
                Some((section, rest)) if SECTIONS.contains(&section) => {
                    format!("{section}.{rest}").into()
                }
                _ => key.into(),
            }
        })
        // Variables such as FIKA_CONFIG (the file path) or the test suite's own are not settings.
        .filter_map(|key| {
            let k = key.as_str();
            let known = TOP_LEVEL_KEYS.contains(&k)
                || k.split_once('.')
                    .is_some_and(|(section, _)| SECTIONS.contains(&section));
            known.then(|| key.into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_local() {
        let c = Config::default();
        c.validate().unwrap();
        assert_eq!(c.backend().unwrap(), Backend::Sqlite);
        let domain = c.public_domain(c.server.listen);
        assert_eq!(domain, "127.0.0.1:8080");
        assert_eq!(c.public_scheme(&domain), "http");
    }

    #[test]
    fn every_section_is_reachable_from_the_environment() {
        let value = serde_json::to_value(Config::default()).unwrap();
        for (key, v) in value.as_object().unwrap() {
            if v.is_object() {
                assert!(
                    SECTIONS.contains(&key.as_str()),
                    "section {key} missing from SECTIONS"
                );
            } else if key.contains('_') {
                assert!(
                    TOP_LEVEL_KEYS.contains(&key.as_str()),
                    "{key} missing from TOP_LEVEL_KEYS"
                );
            }
        }
    }

    #[test]
    fn https_unless_loopback() {
        let c = Config::default();
        assert_eq!(c.public_scheme("hq.example.com"), "https");
        assert_eq!(c.public_scheme("localhost:3000"), "http");
        assert_eq!(c.public_scheme("[::1]:3000"), "http");
        assert_eq!(c.public_scheme("10.0.0.5"), "https");
    }

    #[test]
    fn public_listen_needs_a_domain() {
        let mut c = Config::default();
        c.server.listen = "0.0.0.0:8080".parse().unwrap();
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("server.domain"), "{err}");
        c.server.domain = Some("https://hq.example".into());
        assert!(c.validate().unwrap_err().to_string().contains("not a URL"));
        c.server.domain = Some("hq.example:8443".into());
        c.validate().unwrap();
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's error type, not ours
    fn file_and_env_errors_name_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("fika.toml", "[log]\nformat = \"xml\"\n")?;
            let err = Config::load(Some(Path::new("fika.toml")))
                .unwrap_err()
                .to_string();
            assert!(err.contains("log.format"), "{err}");
            jail.create_file("ok.toml", "[server]\nnode_name = \"HQ\"\n")?;
            jail.set_env("FIKA_SERVER_LISTEN", "not-an-address");
            let err = Config::load(Some(Path::new("ok.toml")))
                .unwrap_err()
                .to_string();
            // figment names an environment-sourced key in upper case.
            assert!(err.to_lowercase().contains("server.listen"), "{err}");
            jail.set_env("FIKA_SERVER_LISTEN", "127.0.0.1:9999");
            jail.set_env("FIKA_DATABASE_URL", "postgres://localhost/fika");
            jail.set_env("FIKA_DATA_DIR", "/var/lib/fika");
            jail.set_env("FIKA_CONFIG", "ignored.toml");
            jail.set_env("FIKA_STATUSES_DEFAULT_LOCAL_ONLY", "true");
            jail.set_env("FIKA_ACCOUNTS_DEFAULT_DISCOVERABLE", "false");
            let c = Config::load(Some(Path::new("ok.toml"))).unwrap();
            assert!(c.statuses.default_local_only);
            assert!(!c.accounts.default_discoverable);
            assert!(Config::default().accounts.default_discoverable);
            assert_eq!(c.server.node_name, "HQ");
            assert_eq!(c.server.listen.port(), 9999);
            assert_eq!(c.backend().unwrap(), Backend::Postgres);
            assert_eq!(c.data_dir, PathBuf::from("/var/lib/fika"));
            jail.create_file("typo.toml", "[server]\nlisten_addr = \"x\"\n")?;
            let err = Config::load(Some(Path::new("typo.toml")))
                .unwrap_err()
                .to_string();
            assert!(err.contains("listen_addr"), "{err}");
            Ok(())
        });
    }
}
