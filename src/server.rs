//! Starting and stopping a node: storage, the first admin, the listener, graceful shutdown.

use std::sync::Arc;

use anyhow::Context;
use fika_federation::policy::ReadPolicy;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::convert::NodeUrls;
use crate::domain::accounts::{self, NewAccount, Role};
use crate::http::{self, AppState};
use crate::store::Store;

/// Opens the database and brings its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(config).await.with_context(|| {
        format!(
            "opening database {}",
            redact_password(&config.database_url())
        )
    })?;
    store.migrate().await?;
    Ok(store)
}

/// The SQLite file a database URL names, if it names one (not PostgreSQL, not in memory).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:" && !url.contains("mode=memory")).then(|| path.into())
}

/// SQLite is one writer in one process: a second `fika serve` on the same file would send
/// deliveries twice and take each other's leases. The first takes an exclusive lock on
/// `FILE.lock`, and another is refused with a clear message. (The CLI does not take it: its
/// commands run beside the server.)
fn claim_sqlite(config: &Config) -> anyhow::Result<Option<std::fs::File>> {
    let Some(db) = sqlite_file(&config.database_url()) else {
        return Ok(None);
    };
    let mut lock_path = db.clone().into_os_string();
    lock_path.push(".lock");
    let lock_path = std::path::PathBuf::from(lock_path);
    if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("opening {}", lock_path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another fika serve is already running on the SQLite database {} (it holds {}): \
             SQLite serves one process; run several processes on PostgreSQL",
            db.display(),
            lock_path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", lock_path.display()))
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages and logs.
pub fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// On an empty node, creates the configured admin account and tells the person starting it how
/// to log in. Returns the password it generated, if it made the account.
async fn bootstrap_admin(
    store: &Store,
    config: &Config,
    urls: &NodeUrls,
) -> anyhow::Result<Option<String>> {
    let username = &config.admin.initial_username;
    if username.is_empty() || store.has_local_accounts().await? {
        return Ok(None);
    }
    let password = accounts::generate_password();
    accounts::create_local_account(
        store,
        NewAccount {
            username,
            email: None,
            password: &password,
            role: Role::Admin,
            discoverable: config.accounts.default_discoverable,
        },
    )
    .await
    .context("creating the first admin account")?;
    tracing::info!(%username, "created the first admin account");
    // Printed, not logged: log pipelines often end up somewhere passwords should not.
    println!(
        "\n  fika created the first admin account on this node.\n\
         \n    username: {username}\n    password: {password}\n\
         \n  In a Mastodon app, log in to: {base}\n  \
         Change the password with: fika admin set-password {username}\n",
        base = urls.base
    );
    Ok(Some(password))
}

/// The node as the CLI acts on it, without serving: its public URLs come from the
/// configuration (`server.domain`, else the listen address). Deliveries it writes are sent by
/// the running server's worker.
pub async fn offline_node(store: Store, config: Config) -> anyhow::Result<crate::domain::Node> {
    let domain = config.public_domain(config.server.listen);
    let urls = NodeUrls::new(config.public_scheme(&domain), &domain)
        .with_context(|| format!("building the public URL from domain {domain:?}"))?;
    let fed = federation_setup(&store, &config, &urls).await?;
    let push = push_setup(&store, &config, &urls).await?;
    let sso = Arc::new(
        crate::domain::sso::Sso::new(&config)
            .map_err(|e| anyhow::anyhow!("setting up company login: {e}"))?,
    );
    Ok(crate::domain::Node {
        store,
        urls: Arc::new(urls),
        config: Arc::new(config),
        hub: crate::domain::events::Hub::new(),
        fed,
        fanout_wake: Default::default(),
        activity: Default::default(),
        sso,
        push,
    })
}

/// Runs the node until SIGTERM or SIGINT.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Held until the process ends; the OS lets go of it if the process dies.
    let _single_process = claim_sqlite(&config)?;
    let store = open_store(&config).await?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("listening on {} (server.listen)", config.server.listen))?;
    let bound = listener.local_addr()?;
    let domain = config.public_domain(bound);
    let urls = NodeUrls::new(config.public_scheme(&domain), &domain)
        .with_context(|| format!("building the public URL from domain {domain:?}"))?;
    bootstrap_admin(&store, &config, &urls).await?;
    for warning in crate::domain::login::setup_warnings(&store, &config).await? {
        tracing::warn!("{warning}");
    }

    let fed = federation_setup(&store, &config, &urls).await?;
    let push = push_setup(&store, &config, &urls).await?;
    let sso = Arc::new(
        crate::domain::sso::Sso::new(&config)
            .map_err(|e| anyhow::anyhow!("setting up company login: {e}"))?,
    );
    let rate_limiter = crate::http::ratelimit::RateLimiter::new(
        config.limits.requests_per_window,
        config.limits.window_seconds,
    );
    let state = AppState {
        node: crate::domain::Node {
            store: store.clone(),
            urls: Arc::new(urls.clone()),
            config: Arc::new(config),
            hub: crate::domain::events::Hub::new(),
            fed,
            fanout_wake: Default::default(),
            activity: Default::default(),
            sso,
            push,
        },
        // Authorized fetch is always on: see fika_federation::policy.
        read_policy: ReadPolicy::SignedPeersOnly,
        rate_limiter,
        metrics: Default::default(),
    };
    let hub = state.node.hub.clone();
    release_leases_of_a_dead_process(&state.node.store).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = {
        let node = state.node.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(crate::jobs::delivery::run(node, async move {
            let _ = stop.wait_for(|s| *s).await;
        }))
    };
    // Fan-outs queued before a stop are applied now, before or while requests are served.
    let fanout = tokio::spawn(crate::jobs::fanout::run(
        state.node.clone(),
        stop_rx.clone(),
    ));
    crate::domain::policy::reload(&state.node).await?;
    // After the reload, so queued activities are judged by the policy in force. Those left
    // queued by a stop are processed now.
    let inbox = tokio::spawn(crate::jobs::inbox::run(state.node.clone(), stop_rx.clone()));
    let backfill = tokio::spawn(crate::jobs::backfill::run(
        state.node.clone(),
        stop_rx.clone(),
    ));
    let directory_sync = tokio::spawn(crate::jobs::directory_sync::run(
        state.node.clone(),
        stop_rx.clone(),
    ));
    let announcements = tokio::spawn(crate::jobs::announcements::run(
        state.node.clone(),
        stop_rx.clone(),
    ));
    let insights = tokio::spawn(crate::jobs::insights::run(
        state.node.clone(),
        stop_rx.clone(),
    ));
    let scheduled = tokio::spawn(crate::jobs::scheduled::run(
        state.node.clone(),
        stop_rx.clone(),
    ));
    let polls = tokio::spawn(crate::jobs::polls::run(state.node.clone(), stop_rx.clone()));
    let pushes = tokio::spawn(crate::jobs::push::run(state.node.clone(), stop_rx.clone()));
    let app = http::router(state);
    // Trailing slashes must be trimmed before routing, so the layer wraps the whole router.
    let app = tower::Layer::layer(
        &tower_http::normalize_path::NormalizePathLayer::trim_trailing_slash(),
        app,
    );
    tracing::info!(address = %bound, url = %urls.base, "listening");
    // Tests and scripts wait for this line.
    println!("fika listening on {bound} as {}", urls.base);
    // Responses go out as soon as they are written: with Nagle's algorithm on, a response
    // written in two parts waited for the client's delayed ACK (~40 ms on Linux), which the
    // benchmark saw on every POST /api/v1/statuses.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
        }
    });
    axum::serve(
        listener,
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(app),
    )
    .with_graceful_shutdown({
        let hub = hub.clone();
        async move {
            shutdown_signal().await;
            // Streams never end by themselves: close them so in-flight requests can finish.
            hub.close();
        }
    })
    .await
    .context("serving HTTP")?;
    tracing::info!("shutting down: in-flight requests finished");
    let _ = stop_tx.send(true);
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "the delivery worker failed");
    }
    if let Err(e) = fanout.await {
        tracing::error!(error = %e, "the fan-out worker failed");
    }
    if let Err(e) = inbox.await {
        tracing::error!(error = %e, "the inbox worker failed");
    }
    if let Err(e) = backfill.await {
        tracing::error!(error = %e, "the backfill worker failed");
    }
    if let Err(e) = directory_sync.await {
        tracing::error!(error = %e, "the directory sync failed");
    }
    if let Err(e) = announcements.await {
        tracing::error!(error = %e, "the announcements worker failed");
    }
    if let Err(e) = insights.await {
        tracing::error!(error = %e, "the insights worker failed");
    }
    if let Err(e) = scheduled.await {
        tracing::error!(error = %e, "the scheduled-statuses worker failed");
    }
    if let Err(e) = polls.await {
        tracing::error!(error = %e, "the polls worker failed");
    }
    if let Err(e) = pushes.await {
        tracing::error!(error = %e, "the Web Push worker failed");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The federation client, its policy, and the node's own signing key (made on first start).
async fn federation_setup(
    store: &Store,
    config: &Config,
    urls: &NodeUrls,
) -> anyhow::Result<Arc<crate::domain::federation::fed::Fed>> {
    let f = &config.federation;
    let policy =
        fika_federation::policy::DomainPolicy::new(f.mode, &f.allowed_domains, &f.blocked_domains);
    let net = crate::net::Net::new(
        policy,
        f.allow_http,
        std::time::Duration::from_secs(f.timeout_seconds),
        &urls.base,
    );
    let (private, _) = store
        .node_key(|| accounts::generate_key_pair().unwrap_or_default())
        .await?;
    let key = fika_federation::signatures::parse_private_key(&private)
        .map_err(|e| anyhow::anyhow!("the node key is unusable: {e}"))?;
    let signer = crate::net::Signer {
        key_id: fika_federation::actor::main_key_id(&urls.node_actor()).to_string(),
        key: Arc::new(key),
    };
    Ok(Arc::new(crate::domain::federation::fed::Fed::new(
        net, signer,
    )))
}

/// Web Push: the node's VAPID key (made on first start) and the push client.
async fn push_setup(
    store: &Store,
    config: &Config,
    urls: &NodeUrls,
) -> anyhow::Result<Arc<crate::webpush::WebPush>> {
    let (private, _) = store
        .node_key_numbered(crate::store::federation::NodeKey::Vapid, || {
            crate::webpush::generate_key().unwrap_or_default()
        })
        .await?;
    let contact = if config.push.contact.is_empty() {
        urls.base.to_string()
    } else {
        config.push.contact.clone()
    };
    let user_agent = format!("fika/{} (+{})", env!("CARGO_PKG_VERSION"), urls.base);
    let push = crate::webpush::WebPush::new(&private, &config.push, contact, &user_agent)
        .map_err(|e| anyhow::anyhow!("the VAPID key is unusable: {e}"))?;
    Ok(Arc::new(push))
}

/// On SQLite one process uses the database, so work leased when the node last stopped was that
/// process's and is not in flight any more (it was killed, or its stop gave up waiting): due
/// now, not when the lease ends. On PostgreSQL a lease may belong to another live process.
async fn release_leases_of_a_dead_process(store: &crate::store::Store) -> anyhow::Result<()> {
    if !matches!(store.pool, crate::store::Pool::Sqlite(_)) {
        return Ok(());
    }
    let now = crate::store::now_millis();
    let inbox = store.release_first_inbox_leases(now).await?;
    let deliveries = store.release_first_delivery_leases(now).await?;
    if inbox + deliveries > 0 {
        tracing::info!(
            inbox,
            deliveries,
            "work left leased when the node last stopped is due again"
        );
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = terminate => tracing::info!("SIGTERM received"),
    }
}
