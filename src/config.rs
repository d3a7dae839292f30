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
    "auth",
    "oidc",
    "ldap",
    "instance",
    "insights",
    "push",
];
/// `FIKA_*` variables that are not settings: the configuration file's path, and the test
/// suites', benchmark's and deployment scripts' own (see README, "Configuration"). Anything else
/// named `FIKA_*` must be a setting, so a typo is refused instead of ignored.
const NOT_SETTINGS: &[&str] = &[
    "FIKA_CONFIG",
    "FIKA_BIN",
    "FIKA_DB_PASSWORD",
    // tests/clients/js/masto_smoke.mjs
    "FIKA_BASE_URL",
    "FIKA_TOKEN",
    "FIKA_PNG",
];
/// Prefixes of the same, for families of such variables.
const NOT_SETTINGS_PREFIXES: &[&str] = &[
    "FIKA_TEST_",
    "FIKA_BENCH_",
    "FIKA_DEMO_",
    "FIKA_DEPLOY_",
    "FIKA_INTEROP_",
    "FIKA_CLIENT_",
    "FIKA_SSO_TEST_",
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
    pub instance: InstanceConfig,
    pub auth: AuthConfig,
    pub oidc: OidcConfig,
    pub ldap: LdapConfig,
    pub insights: InsightsConfig,
    pub push: PushConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Whether local accounts may log in with a password kept by fika. Off makes the company's
    /// identity provider (`[oidc]`, `[ldap]`) the only way in, except for `break_glass_admin`.
    pub local_passwords: bool,
    /// Username of the one local account that still logs in with its fika password when
    /// `local_passwords` is off: for when the identity provider is down. Must be an admin.
    pub break_glass_admin: String,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            local_passwords: true,
            break_glass_admin: String::new(),
        }
    }
}

/// Which role a directory group grants, as `[oidc]` and `[ldap]` both set it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RoleGroups<'a> {
    pub admin_groups: &'a [String],
    pub moderator_groups: &'a [String],
    pub communicator_groups: &'a [String],
    pub required_group: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// The provider's issuer URL (`https://login.example.com/realms/staff`); its discovery
    /// document is `ISSUER/.well-known/openid-configuration`. Empty turns OpenID Connect off.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Shown on the login page's button: "Log in with DISPLAY_NAME".
    pub display_name: String,
    /// Scopes asked for; `openid` is always added.
    pub scopes: Vec<String>,
    /// The claim the username comes from (normalised to fika's rules).
    pub username_claim: String,
    pub display_name_claim: String,
    pub email_claim: String,
    /// The claim listing the user's groups (an array of names, or one name).
    pub groups_claim: String,
    /// Members of any of these groups are admins.
    pub admin_groups: Vec<String>,
    /// Members of any of these groups are moderators (unless also admins).
    pub moderator_groups: Vec<String>,
    /// Members of any of these groups are communicators (they publish announcements), unless
    /// also admins or moderators.
    pub communicator_groups: Vec<String>,
    /// When set, only members of this group may log in; others are refused and, if they had
    /// an account, retired.
    pub required_group: Option<String>,
    /// Seconds each request to the provider may take.
    pub timeout_seconds: u64,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            issuer: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            display_name: "company login".into(),
            scopes: vec!["openid".into(), "profile".into(), "email".into()],
            username_claim: "preferred_username".into(),
            display_name_claim: "name".into(),
            email_claim: "email".into(),
            groups_claim: "groups".into(),
            admin_groups: vec![],
            moderator_groups: vec![],
            communicator_groups: vec![],
            required_group: None,
            timeout_seconds: 10,
        }
    }
}

impl OidcConfig {
    pub fn enabled(&self) -> bool {
        !self.issuer.is_empty()
    }

    pub fn roles(&self) -> RoleGroups<'_> {
        RoleGroups {
            admin_groups: &self.admin_groups,
            moderator_groups: &self.moderator_groups,
            communicator_groups: &self.communicator_groups,
            required_group: self.required_group.as_deref().filter(|g| !g.is_empty()),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LdapConfig {
    /// `ldap://host:389` (with `starttls`) or `ldaps://host:636`. Empty turns LDAP off.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before binding.
    pub starttls: bool,
    /// Skip checking the server's certificate (labs only).
    pub tls_insecure: bool,
    /// A PEM file of the CA that signed the directory's certificate (a company CA), trusted
    /// besides the system's.
    pub ca_file: Option<PathBuf>,
    /// The account fika searches with; empty for an anonymous search.
    pub bind_dn: String,
    pub bind_password: String,
    /// Where users are searched (`ou=people,dc=example,dc=com`), the whole subtree.
    pub user_base: String,
    /// The search filter; `{username}` is replaced by the login name, escaped (RFC 4515).
    /// Active Directory: `(&(objectClass=user)(sAMAccountName={username}))`.
    pub user_filter: String,
    /// Filter that lists every user the periodic sync checks; `{username}` is not used.
    pub sync_filter: String,
    pub username_attribute: String,
    pub display_name_attribute: String,
    pub email_attribute: String,
    /// The entry's stable id: `entryUUID` (OpenLDAP), `objectGUID` (Active Directory); accounts
    /// link by it. Empty links by DN.
    pub uuid_attribute: String,
    /// Where groups are searched; empty reads the user's `memberOf` attribute instead.
    pub group_base: String,
    /// Finds a user's groups under `group_base`; `{dn}` is the user's DN, escaped.
    pub group_filter: String,
    /// The attribute naming a group (compared with the `*_groups` settings); a setting may
    /// also name the group's whole DN.
    pub group_name_attribute: String,
    /// Members of any of these groups are admins.
    pub admin_groups: Vec<String>,
    /// Members of any of these groups are moderators (unless also admins).
    pub moderator_groups: Vec<String>,
    /// Members of any of these groups are communicators (they publish announcements), unless
    /// also admins or moderators.
    pub communicator_groups: Vec<String>,
    /// When set, only members of this group may log in; others are refused and, if they had
    /// an account, retired.
    pub required_group: Option<String>,
    /// Seconds between two runs of the sync that retires accounts gone from the directory;
    /// 0 turns it off.
    pub sync_interval_seconds: u64,
    /// Seconds each LDAP operation may take.
    pub timeout_seconds: u64,
}

impl Default for LdapConfig {
    fn default() -> Self {
        LdapConfig {
            url: String::new(),
            starttls: false,
            tls_insecure: false,
            ca_file: None,
            bind_dn: String::new(),
            bind_password: String::new(),
            user_base: String::new(),
            user_filter: "(&(objectClass=inetOrgPerson)(uid={username}))".into(),
            sync_filter: "(objectClass=inetOrgPerson)".into(),
            username_attribute: "uid".into(),
            display_name_attribute: "cn".into(),
            email_attribute: "mail".into(),
            uuid_attribute: "entryUUID".into(),
            group_base: String::new(),
            group_filter: "(|(member={dn})(uniqueMember={dn}))".into(),
            group_name_attribute: "cn".into(),
            admin_groups: vec![],
            moderator_groups: vec![],
            communicator_groups: vec![],
            required_group: None,
            sync_interval_seconds: 3600,
            timeout_seconds: 10,
        }
    }
}

impl LdapConfig {
    pub fn enabled(&self) -> bool {
        !self.url.is_empty()
    }

    pub fn roles(&self) -> RoleGroups<'_> {
        RoleGroups {
            admin_groups: &self.admin_groups,
            moderator_groups: &self.moderator_groups,
            communicator_groups: &self.communicator_groups,
            required_group: self.required_group.as_deref().filter(|g| !g.is_empty()),
        }
    }
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

/// What the node tells apps about its rules and policies (`/api/v1/instance/...`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct InstanceConfig {
    /// The node's rules, one sentence each, shown by apps.
    pub rules: Vec<String>,
    /// A longer description of the node (plain text; paragraphs by blank lines).
    pub extended_description: String,
    /// The privacy policy staff are pointed to (plain text; paragraphs by blank lines).
    pub privacy_policy: String,
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

/// Insights (`/admin/insights`, the admin dashboard API): weekly aggregates, shared with `org`
/// peers as counts only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct InsightsConfig {
    /// Counts below this are left out of what is shared with peers (and shown as "fewer than"),
    /// so that no small group of people can be told apart.
    pub threshold: i64,
    /// How often the current week's figures are recomputed and, where they changed, shared.
    pub interval_seconds: u64,
    /// Whether this node shares its weekly aggregates with its `org` peers at all.
    pub share: bool,
}

impl Default for InsightsConfig {
    fn default() -> Self {
        InsightsConfig {
            threshold: 5,
            interval_seconds: 300,
            share: true,
        }
    }
}

/// Web Push (`/api/v1/push/subscription`): notifications sent to the push services of staff's
/// phones and browsers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// Whether pushes are sent at all (subscriptions are still kept when off, and what would
    /// have been pushed is dropped).
    pub enabled: bool,
    /// Accept `http://` push endpoints (tests only: push services are HTTPS).
    pub allow_http: bool,
    /// Accept push endpoints on loopback, private and link-local addresses. Off, a
    /// subscription cannot make the node POST into its own network; on for a company push
    /// gateway on an internal address (and in tests).
    pub allow_private_addresses: bool,
    /// Attempts per push before it is given up; retries wait `retry_base_seconds` doubled
    /// each time.
    pub max_attempts: u32,
    pub retry_base_seconds: u64,
    pub timeout_seconds: u64,
    /// Whether payloads carry the app's access token, as Mastodon's do (apps use it to tell
    /// their logins apart). On, the node keeps the token of each login with a subscription,
    /// the one exception to tokens being stored only as digests; off, it keeps none and apps
    /// that need it cannot tell which of their logins a push is for.
    pub send_access_token: bool,
    /// The VAPID `sub` claim push services may contact the sysadmins by: `mailto:` or an
    /// `https:` URL. Empty: the node's own URL.
    pub contact: String,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            enabled: true,
            allow_http: false,
            allow_private_addresses: false,
            max_attempts: 6,
            retry_base_seconds: 30,
            timeout_seconds: 10,
            send_access_token: true,
            contact: String::new(),
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
    /// How far ahead a scheduled status must be (Mastodon: five minutes).
    pub scheduled_min_lead_seconds: u64,
    /// The shortest a poll may run (Mastodon: five minutes); the longest is a month.
    pub poll_min_expiration_seconds: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            requests_per_window: 300,
            window_seconds: 300,
            scheduled_min_lead_seconds: 300,
            poll_min_expiration_seconds: 300,
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
            auth: AuthConfig::default(),
            oidc: OidcConfig::default(),
            ldap: LdapConfig::default(),
            insights: InsightsConfig::default(),
            push: PushConfig::default(),
            groups: GroupsConfig::default(),
            console: ConsoleConfig::default(),
            instance: InstanceConfig::default(),
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
    #[error(
        "environment variable {0}: no such setting (variables named FIKA_<SECTION>_<KEY> set \
         `key` in `[section]`; see `fika config check` for every setting)"
    )]
    UnknownVariable(String),
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
        check_env_names(std::env::vars_os().map(|(k, _)| k.to_string_lossy().into_owned()))?;
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
        if self.insights.threshold < 1 {
            return Err(ConfigError::Invalid {
                key: "insights.threshold",
                message: "must be at least 1".into(),
            });
        }
        if self.push.max_attempts == 0 || self.push.timeout_seconds == 0 {
            return Err(ConfigError::Invalid {
                key: "push.max_attempts",
                message: "push.max_attempts and push.timeout_seconds must be at least 1".into(),
            });
        }
        let contact = &self.push.contact;
        if !(contact.is_empty()
            || contact.starts_with("mailto:")
            || contact.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                key: "push.contact",
                message: "must be a mailto: or https: URL".into(),
            });
        }
        if self.insights.interval_seconds == 0 {
            return Err(ConfigError::Invalid {
                key: "insights.interval_seconds",
                message: "must be at least 1".into(),
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
        self.validate_sso()
    }

    fn validate_sso(&self) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, message: &str| ConfigError::Invalid {
            key,
            message: message.into(),
        };
        let name = &self.auth.break_glass_admin;
        if !name.is_empty() {
            crate::names::check_username(name)
                .map_err(|m| invalid("auth.break_glass_admin", &m))?;
        }
        if !self.auth.local_passwords && !self.oidc.enabled() && !self.ldap.enabled() {
            return Err(invalid(
                "auth.local_passwords",
                "can be off only when [oidc] or [ldap] is configured: nobody could log in",
            ));
        }
        let o = &self.oidc;
        if o.enabled() {
            let url = url::Url::parse(&o.issuer)
                .map_err(|e| invalid("oidc.issuer", &format!("not a URL: {e}")))?;
            if !matches!(url.scheme(), "https" | "http") {
                return Err(invalid("oidc.issuer", "must be an https:// URL"));
            }
            if o.client_id.is_empty() {
                return Err(invalid("oidc.client_id", "must be set when oidc.issuer is"));
            }
            if o.username_claim.is_empty() {
                return Err(invalid("oidc.username_claim", "must not be empty"));
            }
            if o.timeout_seconds == 0 {
                return Err(invalid("oidc.timeout_seconds", "must be at least 1"));
            }
        }
        let l = &self.ldap;
        if l.enabled() {
            let url = url::Url::parse(&l.url)
                .map_err(|e| invalid("ldap.url", &format!("not a URL: {e}")))?;
            match url.scheme() {
                "ldap" => {}
                "ldaps" if l.starttls => {
                    return Err(invalid(
                        "ldap.starttls",
                        "StartTLS is for ldap:// URLs; ldaps:// is TLS already",
                    ))
                }
                "ldaps" => {}
                _ => return Err(invalid("ldap.url", "must start with ldap:// or ldaps://")),
            }
            if l.user_base.is_empty() {
                return Err(invalid("ldap.user_base", "must be set when ldap.url is"));
            }
            if !l.user_filter.contains("{username}") {
                return Err(invalid("ldap.user_filter", "must contain {username}"));
            }
            if l.username_attribute.is_empty() {
                return Err(invalid("ldap.username_attribute", "must not be empty"));
            }
            if l.timeout_seconds == 0 {
                return Err(invalid("ldap.timeout_seconds", "must be at least 1"));
            }
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

/// Refuses a `FIKA_*` variable that is neither a setting nor one of the documented others, as
/// an unknown key in the file is refused. Keys inside a known section are left to serde, whose
/// `deny_unknown_fields` names them; this catches what would otherwise be dropped silently: an
/// unknown section (`FIKA_OIDC_ISSUER` on a node without `[oidc]`) or top-level key.
fn check_env_names(names: impl Iterator<Item = String>) -> Result<(), ConfigError> {
    for name in names {
        let Some(rest) = name.strip_prefix("FIKA_") else {
            continue;
        };
        if NOT_SETTINGS.contains(&name.as_str())
            || NOT_SETTINGS_PREFIXES.iter().any(|p| name.starts_with(p))
        {
            continue;
        }
        let key = rest.to_ascii_lowercase();
        let known = TOP_LEVEL_KEYS.contains(&key.as_str())
            || key
                .split_once('_')
                .is_some_and(|(section, k)| SECTIONS.contains(&section) && !k.is_empty());
        if !known {
            return Err(ConfigError::UnknownVariable(name));
        }
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
    fn unknown_variables_are_refused_by_name() {
        let check = |names: &[&str]| check_env_names(names.iter().map(|s| s.to_string()));
        check(&[
            "FIKA_CONFIG",
            "FIKA_BIN",
            "FIKA_TEST_BACKEND",
            "FIKA_TEST_POSTGRES_URL",
            "FIKA_BENCH_NODE_ENV",
            "FIKA_DEMO_PORTS",
            "FIKA_DEPLOY_TOOLS",
            "FIKA_INTEROP_NODE",
            "FIKA_CLIENT_VENV",
            "FIKA_DB_PASSWORD",
            "FIKA_DATA_DIR",
            "FIKA_OIDC_ISSUER",
            "FIKA_LDAP_URL",
            "FIKA_AUTH_LOCAL_PASSWORDS",
            "PATH",
        ])
        .unwrap();
        for bad in [
            "FIKA_OIDCX_ISSUER",
            "FIKA_DATADIR",
            "FIKA_SERVER",
            "FIKA_",
            "FIKA_X",
        ] {
            let err = check(&[bad]).unwrap_err().to_string();
            assert!(err.contains(bad), "{err}");
        }
    }

    #[test]
    fn sso_settings_are_checked() {
        let mut c = Config::default();
        c.auth.local_passwords = false;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("auth.local_passwords"));
        c.oidc.issuer = "https://login.example.com".into();
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("oidc.client_id"));
        c.oidc.client_id = "fika".into();
        c.validate().unwrap();
        c.ldap.url = "ldaps://dir.example.com".into();
        c.ldap.starttls = true;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("ldap.starttls"));
        c.ldap.starttls = false;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .contains("ldap.user_base"));
        c.ldap.user_base = "ou=people,dc=example,dc=com".into();
        c.validate().unwrap();
        c.ldap.user_filter = "(uid=*)".into();
        assert!(c.validate().unwrap_err().to_string().contains("{username}"));
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
            jail.set_env("FIKA_OIDC_ISSUER", "https://login.example.com");
            jail.set_env("FIKA_OIDC_CLIENT_ID", "fika");
            jail.set_env("FIKA_OIDC_ADMIN_GROUPS", "[\"it-admins\"]");
            let c = Config::load(Some(Path::new("ok.toml"))).unwrap();
            assert_eq!(c.oidc.issuer, "https://login.example.com");
            assert_eq!(c.oidc.admin_groups, vec!["it-admins".to_string()]);
            jail.create_file("typo.toml", "[server]\nlisten_addr = \"x\"\n")?;
            let err = Config::load(Some(Path::new("typo.toml")))
                .unwrap_err()
                .to_string();
            assert!(err.contains("listen_addr"), "{err}");
            jail.set_env("FIKA_OIDCC_ISSUER", "https://login.example.com");
            let err = Config::load(Some(Path::new("ok.toml")))
                .unwrap_err()
                .to_string();
            assert!(err.contains("FIKA_OIDCC_ISSUER"), "{err}");
            Ok(())
        });
    }
}
