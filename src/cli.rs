//! The `fika` command line: the server and what sysadmins and admins run beside it.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::convert::rfc3339_millis;
use crate::domain::accounts::{self, NewAccount, Role};

#[derive(Parser)]
#[command(
    name = "fika",
    version,
    about = "A federated social network node for organisations"
)]
struct Cli {
    /// Configuration file (TOML). Without one, defaults and FIKA_* variables apply.
    #[arg(long, short, global = true, env = "FIKA_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the node (HTTP server), applying pending migrations first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a local account; prints a generated password unless one is read from stdin.
    CreateUser {
        username: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long, default_value = "user", value_parser = parse_role)]
        role: Role,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List local accounts.
    ListUsers,
    /// Set a password; prints a generated one unless one is read from stdin.
    SetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Make an account a user, communicator (publishes announcements), moderator or admin.
    SetRole {
        username: String,
        #[arg(value_parser = parse_role)]
        role: Role,
    },
    /// Suspend an account: it can no longer log in and peers see it as gone.
    Suspend { username: String },
    /// Lift a suspension.
    Unsuspend { username: String },
    /// Link a local account to a company identity, so that identity logs in to it: how an
    /// admin resolves a username collision when the account is that person's. The subject is
    /// in the node's log line of the refused login.
    LinkIdentity {
        username: String,
        #[arg(value_parser = ["oidc", "ldap"])]
        provider: String,
        /// OIDC `sub`; LDAP entry UUID (objectGUID as hex) or DN, as the log shows it.
        subject: String,
        /// The OIDC issuer (default: `oidc.issuer`).
        #[arg(long)]
        issuer: Option<String>,
    },
    /// Show the delivery queue: deliveries pending and given up (dead), per peer.
    Deliveries,
    /// Write a consistent backup (database, keys, media) into a new directory, also while the
    /// node runs.
    Backup { dir: PathBuf },
    /// Restore a backup into this (fresh) node's database and data directory.
    Restore {
        dir: PathBuf,
        /// Overwrite an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Print one user's profile, posts and follows as ActivityStreams JSON.
    ExportUser { username: String },
    /// Decide which peer nodes federate with this one.
    #[command(subcommand)]
    Federation(FederationCommand),
    /// Groups hosted on this node, which staff on every allowed node can join.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Compute this node's insights for a week now (the running node does so on its own every
    /// `insights.interval_seconds`) and print the figures and how long it took.
    Insights {
        /// The week's Monday, YYYY-MM-DD (default: this week).
        #[arg(long)]
        week: Option<String>,
    },
}

#[derive(Subcommand)]
enum GroupCommand {
    /// Create a group owned by a local account (its first member and moderator).
    Create {
        name: String,
        #[arg(long)]
        owner: String,
        /// Join requests wait for a moderator, and posts stay among the members.
        #[arg(long)]
        private: bool,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        note: Option<String>,
        /// Who may post: its members, or anyone on an allowed node (open groups only).
        #[arg(long, default_value = "members", value_parser = ["members", "anyone"])]
        posting: String,
    },
    /// List the groups hosted here.
    List,
    /// Make a local account a moderator (or, with --owner, an owner) of a group.
    AddModerator {
        group: String,
        username: String,
        #[arg(long)]
        owner: bool,
    },
    /// Remove a moderator from a group (a group keeps at least one owner).
    RemoveModerator { group: String, username: String },
    /// Delete a group: its members stop receiving, and peers see it as gone.
    Delete { group: String },
}

#[derive(Subcommand)]
enum FederationCommand {
    /// Allow a peer domain (`host` or `host:port`), as a node of the organisation (tier
    /// `org`: it receives every public status) or as a `partner` (follows only).
    Allow {
        domain: String,
        #[arg(long, default_value = "org", value_parser = ["org", "partner"])]
        tier: String,
    },
    /// Set the tier of an allowed domain: org or partner.
    Tier {
        domain: String,
        #[arg(value_parser = ["org", "partner"])]
        tier: String,
    },
    /// Whether announcements travel between this node and a peer (both ways); without a
    /// setting, org peers take them and partners do not.
    Announcements {
        domain: String,
        #[arg(value_parser = ["on", "off"])]
        setting: String,
    },
    /// Block a peer domain; a block wins over an allow.
    Deny { domain: String },
    /// Remove a domain's allow and block entries.
    Remove { domain: String },
    /// Show the mode and the domains in force (configuration, allowlist file and admins').
    List,
    /// Set the mode: allowlist (only allowed domains federate) or blocklist.
    Mode {
        #[arg(value_parser = ["allowlist", "blocklist"])]
        mode: String,
    },
    /// Show the audit log of policy changes, newest first.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration and print the effective settings.
    Check,
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
        .map_err(|e: crate::domain::DomainError| e.to_string())
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("fika: {e}");
            return ExitCode::from(2);
        }
    };
    crate::logging::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fika: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "fika failed");
            eprintln!("fika: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => crate::server::serve(config).await,
        Command::Migrate => {
            let store = crate::server::open_store(&config).await?;
            println!(
                "database is at schema version {}",
                store.latest_known_migration()
            );
            store.close().await;
            Ok(())
        }
        Command::Config(ConfigCommand::Check) => {
            println!("configuration is valid; effective settings:\n");
            let mut shown = config.clone();
            shown.database.url = crate::server::redact_password(&config.database_url());
            for secret in [&mut shown.oidc.client_secret, &mut shown.ldap.bind_password] {
                if !secret.is_empty() {
                    *secret = "***".into();
                }
            }
            print!("{}", toml_string(&shown)?);
            Ok(())
        }
        Command::Admin(AdminCommand::Backup { dir }) => {
            let manifest = crate::backup::backup(&config, &dir).await?;
            println!(
                "backup written to {}\n{}",
                dir.display(),
                serde_json::to_string_pretty(&manifest)?
            );
            Ok(())
        }
        Command::Admin(AdminCommand::Restore { dir, force }) => {
            let report = crate::backup::restore(&config, &dir, force).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        Command::Admin(AdminCommand::ExportUser { username }) => {
            let export = crate::backup::export_user(&config, &username).await?;
            println!("{}", serde_json::to_string_pretty(&export)?);
            Ok(())
        }
        Command::Admin(AdminCommand::Group(command)) => {
            let store = crate::server::open_store(&config).await?;
            let node = crate::server::offline_node(store.clone(), config).await?;
            let result = run_group(command, &node).await;
            store.close().await;
            result
        }
        Command::Admin(AdminCommand::Insights { week }) => {
            let store = crate::server::open_store(&config).await?;
            let node = crate::server::offline_node(store.clone(), config).await?;
            let started = std::time::Instant::now();
            let result = crate::domain::insights::recompute(&node, week.as_deref()).await;
            let elapsed = started.elapsed();
            store.close().await;
            let (week, figures) = result?;
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({
                    "week": crate::domain::insights::week_label(week),
                    "seconds": elapsed.as_secs_f64(),
                    "figures": figures,
                }))?
            );
            Ok(())
        }
        Command::Admin(admin) => {
            let store = crate::server::open_store(&config).await?;
            let result = run_admin(admin, &store, &config).await;
            store.close().await;
            result
        }
    }
}

fn toml_string(config: &Config) -> anyhow::Result<String> {
    // figment serialises through serde; render as JSON-ish TOML by hand-free route.
    let value = serde_json::to_value(config)?;
    let mut out = String::new();
    let mut sections = Vec::new();
    if let serde_json::Value::Object(map) = value {
        for (key, v) in map {
            match v {
                serde_json::Value::Object(inner) => sections.push((key, inner)),
                other => out.push_str(&format!("{key} = {}\n", toml_value(&other))),
            }
        }
        for (name, inner) in sections {
            out.push_str(&format!("\n[{name}]\n"));
            for (key, v) in inner {
                if !v.is_null() {
                    out.push_str(&format!("{key} = {}\n", toml_value(&v)));
                }
            }
        }
    }
    Ok(out)
}

fn toml_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

fn read_password_line() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// An account change made from the CLI, in the audit log like the console's and the API's.
async fn audit_account(
    store: &crate::store::Store,
    action: &str,
    detail: &str,
) -> anyhow::Result<()> {
    let who = cli_actor();
    store
        .record_audit(&crate::store::policy::Audit {
            actor: &who,
            action,
            domain: None,
            detail,
        })
        .await?;
    Ok(())
}

fn cli_actor() -> String {
    format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

async fn run_group(command: GroupCommand, node: &crate::domain::Node) -> anyhow::Result<()> {
    use crate::domain::groups::{self, Acting, GroupInput};
    let acting = Acting::cli(cli_actor());
    let local = |name: String| async move {
        accounts::find_local(&node.store, &name)
            .await?
            .filter(|a| !a.is_group)
            .ok_or_else(|| anyhow::anyhow!("no local account named {name:?}"))
    };
    let show = |g: &crate::convert::views::GroupView| {
        let moderators: Vec<String> = g
            .moderators
            .iter()
            .map(|(a, role)| format!("{}({role})", a.row.username))
            .collect();
        println!(
            "{:<24} {:<8} posting {:<8} members {:<5} {}",
            g.account.row.username,
            if g.account.row.locked {
                "private"
            } else {
                "open"
            },
            g.posting,
            g.account.counts.followers,
            moderators.join(" ")
        );
    };
    match command {
        GroupCommand::Create {
            name,
            owner,
            private,
            display_name,
            note,
            posting,
        } => {
            let owner = local(owner).await?;
            let view = groups::create(
                node,
                &acting,
                &owner,
                GroupInput {
                    name,
                    display_name,
                    note,
                    private: Some(private),
                    posting: Some(posting),
                },
            )
            .await?;
            println!(
                "created group @{}@{}",
                view.account.row.username, node.urls.domain
            );
        }
        GroupCommand::List => {
            for g in groups::list(node).await? {
                show(&g);
            }
        }
        GroupCommand::AddModerator {
            group,
            username,
            owner,
        } => {
            let id = groups::id_by_name(node, &group).await?;
            let account = local(username).await?;
            let role = if owner { "owner" } else { "moderator" };
            let view = groups::set_moderator(node, &acting, id, account.id, Some(role)).await?;
            show(&view);
        }
        GroupCommand::RemoveModerator { group, username } => {
            let id = groups::id_by_name(node, &group).await?;
            let account = local(username).await?;
            let view = groups::set_moderator(node, &acting, id, account.id, None).await?;
            show(&view);
        }
        GroupCommand::Delete { group } => {
            let id = groups::id_by_name(node, &group).await?;
            groups::delete(node, &acting, id).await?;
            println!("deleted group {group}");
        }
    }
    Ok(())
}

async fn run_federation(
    command: FederationCommand,
    store: &crate::store::Store,
    config: &Config,
) -> anyhow::Result<()> {
    use crate::domain::policy;
    // The audit log names who made a change: the operating-system user running the command.
    let who = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    match command {
        FederationCommand::Allow { domain, tier } => {
            let tier = policy::parse_tier(&tier)?;
            let row = policy::add(store, config, &who, &domain, "allow", tier).await?;
            println!("{} is allowed (tier {})", row.domain, row.tier);
        }
        FederationCommand::Tier { domain, tier } => {
            let row = policy::set_tier(store, &who, &domain, policy::parse_tier(&tier)?).await?;
            println!("{} is now tier {}", row.domain, row.tier);
        }
        FederationCommand::Announcements { domain, setting } => {
            let domain = crate::domain::announcements::set_peer_setting(
                store,
                &who,
                &domain,
                setting == "on",
            )
            .await?;
            println!("announcements with {domain}: {setting}");
        }
        FederationCommand::Deny { domain } => {
            let row = policy::add(
                store,
                config,
                &who,
                &domain,
                "block",
                fika_federation::policy::Tier::Org,
            )
            .await?;
            println!("{} is blocked", row.domain);
        }
        FederationCommand::Remove { domain } => {
            let n = policy::remove(store, config, &who, &domain, None).await?;
            println!("removed {n} entries for {domain}");
        }
        FederationCommand::Mode { mode } => {
            let m = if mode == "blocklist" {
                fika_federation::policy::Mode::Blocklist
            } else {
                fika_federation::policy::Mode::Allowlist
            };
            policy::set_mode(store, &who, m).await?;
            println!("federation mode is now {mode}");
        }
        FederationCommand::List => {
            let effective = policy::effective(store, config).await?;
            println!("mode: {:?}", effective.mode);
            for d in &config.federation.allowed_domains {
                println!("allow  {d:<40} org      (configuration)");
            }
            for d in &config.federation.partner_domains {
                println!("allow  {d:<40} partner  (configuration)");
            }
            for d in &config.federation.blocked_domains {
                println!("block  {d:<40} (configuration)");
            }
            for row in store.policy_domains().await? {
                let tier = if row.kind == "allow" { &row.tier } else { "" };
                println!(
                    "{:<6} {:<40} {:<8} (admin, {})",
                    row.kind,
                    row.domain,
                    tier,
                    rfc3339_millis(row.created_at)
                );
            }
        }
        FederationCommand::Audit { limit } => {
            for a in store.audit_log(limit).await? {
                println!(
                    "{}  {:<20} {:<14} {} {}",
                    rfc3339_millis(a.at),
                    a.actor,
                    a.action,
                    a.domain.unwrap_or_default(),
                    a.detail
                );
            }
        }
    }
    Ok(())
}

async fn run_admin(
    command: AdminCommand,
    store: &crate::store::Store,
    config: &Config,
) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateUser {
            username,
            email,
            role,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                (read_password_line()?, false)
            } else {
                (accounts::generate_password(), true)
            };
            let account = accounts::create_local_account(
                store,
                NewAccount {
                    username: &username,
                    email: email.as_deref(),
                    password: &password,
                    role,
                    discoverable: config.accounts.default_discoverable,
                },
            )
            .await?;
            let detail = format!("{} {}", account.username, account.effective_role());
            audit_account(store, "account.create", &detail).await?;
            println!(
                "created {} ({})",
                account.username,
                account.effective_role()
            );
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::ListUsers => {
            let rows = store.list_local_accounts().await?;
            println!(
                "{:<20} {:<30} {:<10} {:<10} created",
                "id", "username", "role", "state"
            );
            for a in rows {
                println!(
                    "{:<20} {:<30} {:<10} {:<10} {}",
                    a.id,
                    a.username,
                    a.effective_role(),
                    if a.suspended { "suspended" } else { "active" },
                    rfc3339_millis(a.created_at)
                );
            }
        }
        AdminCommand::SetPassword {
            username,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                (read_password_line()?, false)
            } else {
                (accounts::generate_password(), true)
            };
            accounts::set_password(store, &username, &password).await?;
            audit_account(store, "account.password", &username).await?;
            println!("password of {username} changed");
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::SetRole { username, role } => {
            accounts::set_role(store, &username, role).await?;
            audit_account(store, "account.role", &format!("{username} {role}")).await?;
            println!("{username} is now {role}");
        }
        AdminCommand::Suspend { username } => {
            accounts::set_suspended(store, &username, true).await?;
            audit_account(store, "account.suspend", &username).await?;
            println!("{username} is suspended");
        }
        AdminCommand::Federation(f) => run_federation(f, store, config).await?,
        AdminCommand::Backup { .. }
        | AdminCommand::Restore { .. }
        | AdminCommand::ExportUser { .. }
        | AdminCommand::Group(_)
        | AdminCommand::Insights { .. } => {
            unreachable!("handled before the store is opened")
        }
        AdminCommand::Deliveries => {
            let rows = store.delivery_counts().await?;
            if rows.is_empty() {
                println!("the delivery queue is empty");
            }
            for (peer, state, count) in rows {
                println!("{peer:<40} {state:<8} {count}");
            }
        }
        AdminCommand::Unsuspend { username } => {
            accounts::set_suspended(store, &username, false).await?;
            audit_account(store, "account.unsuspend", &username).await?;
            println!("{username} is no longer suspended");
        }
        AdminCommand::LinkIdentity {
            username,
            provider,
            subject,
            issuer,
        } => {
            let issuer = match provider.as_str() {
                "oidc" => issuer.unwrap_or_else(|| config.oidc.issuer.clone()),
                _ => "ldap".to_string(),
            };
            let who = format!(
                "cli:{}",
                std::env::var("USER").unwrap_or_else(|_| "unknown".into())
            );
            crate::domain::sso::link(store, &who, &username, &provider, &issuer, &subject).await?;
            println!("{username} is linked to the {provider} identity {subject:?}");
        }
    }
    Ok(())
}
