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
    if username.is_empty() || !store.list_local_accounts().await?.is_empty() {
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

/// Runs the node until SIGTERM or SIGINT.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("listening on {} (server.listen)", config.server.listen))?;
    let bound = listener.local_addr()?;
    let domain = config.public_domain(bound);
    let urls = NodeUrls::new(config.public_scheme(&domain), &domain)
        .with_context(|| format!("building the public URL from domain {domain:?}"))?;
    bootstrap_admin(&store, &config, &urls).await?;

    let rate_limiter = crate::http::ratelimit::RateLimiter::new(
        config.limits.requests_per_window,
        config.limits.window_seconds,
    );
    let state = AppState {
        node: crate::domain::Node {
            store: store.clone(),
            urls: Arc::new(urls.clone()),
            config: Arc::new(config),
            hub: crate::jobs::streaming::Hub::new(),
        },
        read_policy: ReadPolicy::Open,
        rate_limiter,
    };
    let app = http::router(state);
    // Trailing slashes must be trimmed before routing, so the layer wraps the whole router.
    let app = tower::Layer::layer(
        &tower_http::normalize_path::NormalizePathLayer::trim_trailing_slash(),
        app,
    );
    tracing::info!(address = %bound, url = %urls.base, "listening");
    // Tests and scripts wait for this line.
    println!("fika listening on {bound} as {}", urls.base);
    axum::serve(
        listener,
        axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
            std::net::SocketAddr,
        >(app),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving HTTP")?;
    tracing::info!("shutting down: in-flight requests finished");
    store.close().await;
    tracing::info!("stopped");
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
