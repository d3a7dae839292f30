//! The web console for admins, moderators and communicators (`/admin`): server-rendered pages
//! (minijinja templates, in the staff's language from `crate::i18n`), plain forms that work
//! without JavaScript. A session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` on https) with
//! an idle timeout; every form carries the session's CSRF token, the login form a one-time one
//! from its own cookie; logins are rate-limited per client address. Handlers parse, check the
//! session and the token, call one `domain::console` function and render.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use minijinja::value::Kwargs;
use minijinja::{context, Environment, State as TemplateState, Value};

use super::ratelimit::RateLimiter;
use super::AppState;
use crate::domain::console::{self, LoginRefused, Page};
use crate::domain::policy::EntryKind;
use crate::domain::DomainError;
use crate::store::accounts::AccountRow;

const SESSION_COOKIE: &str = "fika_console";
const LOGIN_COOKIE: &str = "fika_console_login";
const LANG_COOKIE: &str = "fika_lang";
/// Login attempts per client address per window.
const LOGIN_ATTEMPTS: u32 = 10;
const LOGIN_WINDOW_SECS: u64 = 300;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/logout", axum::routing::post(logout))
        .route("/admin/static/console.css", get(stylesheet))
        .route("/favicon.svg", get(favicon))
        .route(
            "/favicon.ico",
            get(|| async { Redirect::permanent("/favicon.svg") }),
        )
        .route("/admin/{page}", get(show).post(act))
}

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("base.html", include_str!("templates/base.html")),
            ("login.html", include_str!("templates/login.html")),
            ("federation.html", include_str!("templates/federation.html")),
            ("accounts.html", include_str!("templates/accounts.html")),
            (
                "announcements.html",
                include_str!("templates/announcements.html"),
            ),
            ("audit.html", include_str!("templates/audit.html")),
            ("insights.html", include_str!("templates/insights.html")),
            ("error.html", include_str!("templates/error.html")),
        ] {
            env.add_template(name, source)
                .expect("the console's templates compile");
        }
        // `t("key", name=value, ...)`: the message in the page's language (`lang`).
        env.add_function(
            "t",
            |state: &TemplateState,
             key: String,
             kwargs: Kwargs|
             -> Result<String, minijinja::Error> {
                let lang = state
                    .lookup("lang")
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_else(|| "en".into());
                let mut args = Vec::new();
                for name in kwargs.args() {
                    let v: Value = kwargs.get(name)?;
                    args.push((name, v.to_string()));
                }
                Ok(crate::i18n::catalogues().text(&lang, &key, &args))
            },
        );
        env
    })
}

fn login_limiter() -> &'static Arc<RateLimiter> {
    static LIMITER: OnceLock<Arc<RateLimiter>> = OnceLock::new();
    LIMITER.get_or_init(|| RateLimiter::new(LOGIN_ATTEMPTS, LOGIN_WINDOW_SECS))
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// What every page knows before its own content.
struct Ctx {
    lang: &'static str,
    /// Set when `?lang=` asked for a language: remembered in a cookie.
    chose_lang: bool,
    session: Option<Session>,
}

struct Session {
    account: AccountRow,
    csrf: String,
}

async fn ctx(
    state: &AppState,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Ctx, DomainError> {
    let asked = query.get("lang").map(String::as_str);
    let chosen = asked.or_else(|| cookie(headers, LANG_COOKIE));
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = crate::i18n::negotiate(chosen, accept);
    let session = match cookie(headers, SESSION_COOKIE) {
        Some(token) => console::session(&state.node, token)
            .await?
            .map(|(account, csrf)| Session { account, csrf }),
        None => None,
    };
    Ok(Ctx {
        lang,
        chose_lang: asked.is_some(),
        session,
    })
}

fn secure(state: &AppState) -> &'static str {
    if state.node.urls.base.scheme() == "https" {
        "; Secure"
    } else {
        ""
    }
}

fn set_cookie(response: &mut Response, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn text(lang: &str, key: &str) -> String {
    crate::i18n::catalogues().text(lang, key, &[])
}

/// Renders `template` with the layout's context plus `extra`.
fn render(
    state: &AppState,
    c: &Ctx,
    status: StatusCode,
    template: &str,
    title_key: &str,
    current: &str,
    extra: Value,
) -> Response {
    let languages: Vec<Value> = crate::i18n::LANGUAGES
        .iter()
        .map(|(tag, _)| context! { tag => *tag, name => text(tag, "language-name") })
        .collect();
    let (user, role, pages, csrf) = match &c.session {
        Some(s) => (
            Some(s.account.username.clone()),
            s.account.effective_role().to_string(),
            console::pages_for(&s.account)
                .into_iter()
                .map(Page::slug)
                .collect::<Vec<_>>(),
            s.csrf.clone(),
        ),
        None => (None, String::new(), vec![], String::new()),
    };
    let base = context! {
        lang => c.lang,
        node => state.node.config.server.node_name.clone(),
        accent => state.node.config.console.accent_colour.clone(),
        title => text(c.lang, title_key),
        languages,
        user,
        role,
        pages,
        current,
        csrf,
    };
    let page = context! { ..extra, ..base };
    let html = match templates()
        .get_template(template)
        .and_then(|t| t.render(page))
    {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(template, error = %e, "console page did not render");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "console page did not render",
            )
                .into_response();
        }
    };
    let mut response = (status, axum::response::Html(html)).into_response();
    // A page for people: not turned into a JSON error on error statuses.
    response
        .extensions_mut()
        .insert(crate::http::error::HumanPage);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(
        header::HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    if c.chose_lang {
        set_cookie(
            &mut response,
            format!(
                "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{}",
                c.lang,
                secure(state)
            ),
        );
    }
    response
}

fn error_page(state: &AppState, c: &Ctx, status: StatusCode, message: String) -> Response {
    render(
        state,
        c,
        status,
        "error.html",
        "error-title",
        "",
        context! { error => message },
    )
}

/// A domain refusal as a page: the message (safe to show) with its status.
fn refused(state: &AppState, c: &Ctx, e: DomainError) -> Response {
    let (status, message) = match &e {
        DomainError::Invalid(m) | DomainError::Conflict(m) => {
            (StatusCode::UNPROCESSABLE_ENTITY, m.clone())
        }
        DomainError::Forbidden(_) => (StatusCode::FORBIDDEN, text(c.lang, "forbidden")),
        DomainError::NotFound(what) => (StatusCode::NOT_FOUND, format!("{what} not found")),
        other => {
            tracing::error!(error = %other, "console action failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                text(c.lang, "error-title"),
            )
        }
    };
    error_page(state, c, status, message)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("static/console.css"),
    )
        .into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("static/favicon.svg"),
    )
        .into_response()
}

fn to_login() -> Response {
    Redirect::to("/admin/login").into_response()
}

async fn home(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    match ctx(&state, &headers, &query).await {
        Ok(Ctx {
            session: Some(s), ..
        }) => match console::pages_for(&s.account).first() {
            Some(p) => Redirect::to(&format!("/admin/{}", p.slug())).into_response(),
            None => to_login(),
        },
        Ok(_) => to_login(),
        Err(e) => {
            tracing::error!(error = %e, "console session lookup failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let c = match ctx(&state, &headers, &query).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    login_form(&state, &c, StatusCode::OK, None)
}

fn internal(e: DomainError) -> Response {
    tracing::error!(error = %e, "console request failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// The login form with a fresh one-time token in its own cookie.
fn login_form(state: &AppState, c: &Ctx, status: StatusCode, error: Option<String>) -> Response {
    let token = crate::domain::oauth::random_secret();
    let login_ctx = Ctx {
        lang: c.lang,
        chose_lang: c.chose_lang,
        session: None,
    };
    let mut response = render(
        state,
        &login_ctx,
        status,
        "login.html",
        "login-submit",
        "",
        context! { csrf => token.clone(), error },
    );
    // `render` put the empty session token in `csrf`; the login form carries its own.
    set_cookie(
        &mut response,
        format!(
            "{LOGIN_COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=1800{}",
            secure(state)
        ),
    );
    response
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a.as_bytes(), b.as_bytes())
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let query = HashMap::new();
    let c = match ctx(&state, &headers, &query).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    let given = form.get("csrf").map(String::as_str).unwrap_or("");
    if expected.is_empty() || !same(expected, given) {
        tracing::info!("console login refused: no valid form token");
        return login_form(
            &state,
            &c,
            StatusCode::FORBIDDEN,
            Some(text(c.lang, "csrf-failed")),
        );
    }
    let client = super::client_ip_of(&state, peer.ip(), &headers);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if !login_limiter()
        .check(&format!("console-login:{client}"), now)
        .allowed
    {
        tracing::warn!(client = %client, "console logins rate-limited");
        return login_form(
            &state,
            &c,
            StatusCode::TOO_MANY_REQUESTS,
            Some(text(c.lang, "login-too-many")),
        );
    }
    let name = form.get("login").map(String::as_str).unwrap_or("");
    let password = form.get("password").map(String::as_str).unwrap_or("");
    match console::login(&state.node, name, password).await {
        Ok(Ok(session)) => {
            let page = console::pages_for(&session.account)
                .first()
                .map(|p| p.slug())
                .unwrap_or("");
            let mut response = Redirect::to(&format!("/admin/{page}")).into_response();
            let max_age = i64::from(state.node.config.console.idle_minutes) * 60;
            set_cookie(
                &mut response,
                format!(
                    "{SESSION_COOKIE}={}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
                    session.token,
                    secure(&state)
                ),
            );
            set_cookie(
                &mut response,
                format!("{LOGIN_COOKIE}=; Path=/admin; Max-Age=0"),
            );
            response
        }
        Ok(Err(why)) => {
            let key = match why {
                LoginRefused::WrongCredentials => "login-failed",
                LoginRefused::NotAllowed => "login-not-allowed",
            };
            login_form(
                &state,
                &c,
                StatusCode::UNAUTHORIZED,
                Some(text(c.lang, key)),
            )
        }
        Err(e) => internal(e),
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let query = HashMap::new();
    let c = match ctx(&state, &headers, &query).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    if let (Some(s), Some(token)) = (&c.session, cookie(&headers, SESSION_COOKIE)) {
        if same(&s.csrf, form.get("csrf").map(String::as_str).unwrap_or("")) {
            if let Err(e) = console::logout(&state.node, token).await {
                return internal(e);
            }
        }
    }
    let mut response = to_login();
    set_cookie(
        &mut response,
        format!("{SESSION_COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

fn page_of(slug: &str) -> Option<Page> {
    Page::ALL.into_iter().find(|p| p.slug() == slug)
}

/// A page the session may open; otherwise the login form (no session) or a refusal.
fn gate(state: &AppState, c: &Ctx, slug: &str) -> Result<(Page, AccountRow), Box<Response>> {
    let Some(page) = page_of(slug) else {
        let r = error_page(state, c, StatusCode::NOT_FOUND, "Not found".into());
        return Err(Box::new(r));
    };
    let Some(s) = &c.session else {
        return Err(Box::new(to_login()));
    };
    if !page.allows(console::role_of(&s.account)) {
        let r = error_page(state, c, StatusCode::FORBIDDEN, text(c.lang, "forbidden"));
        return Err(Box::new(r));
    }
    Ok((page, s.account.clone()))
}

async fn show(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let c = match ctx(&state, &headers, &query).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let (page, me) = match gate(&state, &c, &slug) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if let (Page::Insights, Some(table)) = (page, query.get("csv")) {
        return insights_csv(&state, &c, &me, &query, table).await;
    }
    let notice = query
        .get("notice")
        .filter(|k| matches!(k.as_str(), "saved" | "ann-published"))
        .map(|k| text(c.lang, k));
    view(
        &state,
        &c,
        page,
        &me,
        &query,
        StatusCode::OK,
        context! { notice },
    )
    .await
}

/// One table of the insights page as a CSV download.
async fn insights_csv(
    state: &AppState,
    c: &Ctx,
    me: &AccountRow,
    query: &HashMap<String, String>,
    table: &str,
) -> Response {
    let week = query.get("week").cloned().unwrap_or_default();
    let page = match console::insights(&state.node, me, &week).await {
        Ok(p) => p,
        Err(e) => return refused(state, c, e),
    };
    let Some(csv) = console::insights_csv(&page, table) else {
        return error_page(
            state,
            c,
            StatusCode::NOT_FOUND,
            text(c.lang, "ins-no-table"),
        );
    };
    let name = format!("fika-insights-{table}-{}.csv", page.week);
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        csv,
    )
        .into_response();
    response
        .extensions_mut()
        .insert(crate::http::error::HumanPage);
    response
}

/// Renders `page` as it is now, with `extra` (a notice, an error, a draft) on top.
async fn view(
    state: &AppState,
    c: &Ctx,
    page: Page,
    me: &AccountRow,
    query: &HashMap<String, String>,
    status: StatusCode,
    extra: Value,
) -> Response {
    let node = &state.node;
    let q = |k: &str| query.get(k).cloned().unwrap_or_default();
    let (template, title, data) = match page {
        Page::Federation => match console::federation(node, me).await {
            Ok(p) => ("federation.html", "fed-heading", context! { page => p }),
            Err(e) => return refused(state, c, e),
        },
        Page::Accounts => match console::accounts(node, me, &q("q")).await {
            Ok(list) => (
                "accounts.html",
                "acc-heading",
                context! {
                    accounts => list,
                    query => q("q"),
                    admin => console::role_of(me) == crate::domain::accounts::Role::Admin,
                    roles => ["user", "communicator", "moderator", "admin"],
                },
            ),
            Err(e) => return refused(state, c, e),
        },
        Page::Announcements => match console::announcements(node, me).await {
            Ok(items) => (
                "announcements.html",
                "ann-heading",
                context! { items, draft => context! {} },
            ),
            Err(e) => return refused(state, c, e),
        },
        Page::Insights => match console::insights(node, me, &q("week")).await {
            Ok(p) => ("insights.html", "ins-heading", context! { page => p }),
            Err(e) => return refused(state, c, e),
        },
        Page::Audit => match console::audit(node, me, &q("action"), &q("by")).await {
            Ok(entries) => (
                "audit.html",
                "audit-heading",
                context! { entries, filter_action => q("action"), filter_by => q("by") },
            ),
            Err(e) => return refused(state, c, e),
        },
    };
    render(
        state,
        c,
        status,
        template,
        title,
        page.slug(),
        context! { ..extra, ..data },
    )
}

/// A form on a page: the CSRF token checked, then one action.
async fn act(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let query = HashMap::new();
    let c = match ctx(&state, &headers, &query).await {
        Ok(c) => c,
        Err(e) => return internal(e),
    };
    let Some(page) = page_of(&slug) else {
        return error_page(&state, &c, StatusCode::NOT_FOUND, "Not found".into());
    };
    let Some(s) = &c.session else {
        // An expired session: nothing is done; the form says so.
        return login_form(
            &state,
            &c,
            StatusCode::UNAUTHORIZED,
            Some(text(c.lang, "session-expired")),
        );
    };
    if !same(&s.csrf, form.get("csrf").map(String::as_str).unwrap_or("")) {
        tracing::info!(user = %s.account.username, page = slug, "console form refused: bad CSRF token");
        return error_page(
            &state,
            &c,
            StatusCode::FORBIDDEN,
            text(c.lang, "csrf-failed"),
        );
    }
    let (page, me) = match gate(&state, &c, page.slug()) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let f = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let node = &state.node;
    let saved = text(c.lang, "saved");
    let outcome: Result<Value, DomainError> = match (page, f("action")) {
        (Page::Federation, "allow") => {
            console::add_peer(node, &me, f("domain"), EntryKind::Allow, Some(f("tier")), "")
                .await
                .map(|_| context! { notice => saved })
        }
        (Page::Federation, "block") => {
            console::add_peer(node, &me, f("domain"), EntryKind::Block, None, f("reason"))
                .await
                .map(|_| context! { notice => saved })
        }
        (Page::Federation, "remove") => {
            let kind = if f("kind") == "block" {
                EntryKind::Block
            } else {
                EntryKind::Allow
            };
            match f("id").parse::<i64>() {
                Ok(id) => console::remove_peer(node, &me, kind, id)
                    .await
                    .map(|_| context! { notice => saved }),
                Err(_) => Err(DomainError::NotFound("domain entry")),
            }
        }
        (Page::Federation, "tier") => match f("id").parse::<i64>() {
            Ok(id) => console::set_tier(node, &me, id, f("tier"))
                .await
                .map(|_| context! { notice => saved }),
            Err(_) => Err(DomainError::NotFound("domain entry")),
        },
        (Page::Federation, "retry") => console::retry_dead(node, &me, f("domain"))
            .await
            .map(|_| context! { notice => saved }),
        (Page::Federation, "announcements") => {
            console::set_announcements(node, &me, f("domain"), f("on") == "on")
                .await
                .map(|_| context! { notice => saved })
        }
        (Page::Accounts, "create") => {
            console::create_account(node, &me, f("username"), f("email"), f("role"))
                .await
                .map(|password| {
                    let args = [("username", f("username").to_string()), ("password", password)];
                    context! { notice => crate::i18n::catalogues().text(c.lang, "acc-created", &args) }
                })
        }
        (Page::Accounts, "role") => console::set_role(node, &me, f("username"), f("role"))
            .await
            .map(|_| context! { notice => saved }),
        (Page::Accounts, "suspend" | "unsuspend") => {
            console::set_suspended(node, &me, f("username"), f("action") == "suspend")
                .await
                .map(|_| context! { notice => saved })
        }
        (Page::Accounts, "reset") => console::reset_password(node, &me, f("username"))
            .await
            .map(|password| {
                let args = [("username", f("username").to_string()), ("password", password)];
                context! { notice => crate::i18n::catalogues().text(c.lang, "acc-password-reset", &args) }
            }),
        (Page::Announcements, "preview" | "publish") => {
            return announce(&state, &c, &me, &form).await;
        }
        (Page::Announcements, "edit") => match f("id").parse::<i64>() {
            Ok(id) => {
                let input = crate::domain::announcements::AnnouncementInput {
                    text: Some(f("text").to_string()),
                    // An emptied field clears the time; a `datetime-local` value is UTC.
                    starts_at: Some(utc_minute(f("starts_at"))),
                    ends_at: Some(utc_minute(f("ends_at"))),
                    ..Default::default()
                };
                crate::domain::announcements::edit(node, &me, id, input)
                    .await
                    .map(|_| context! { notice => saved })
            }
            Err(_) => Err(DomainError::NotFound("announcement")),
        },
        (Page::Announcements, "withdraw") => match f("id").parse::<i64>() {
            Ok(id) => crate::domain::announcements::withdraw(node, &me, id)
                .await
                .map(|_| context! { notice => saved }),
            Err(_) => Err(DomainError::NotFound("announcement")),
        },
        (Page::Announcements, "remind") => match f("id").parse::<i64>() {
            Ok(id) => crate::domain::announcements::remind(node, &me, id)
                .await
                .map(|_| context! { notice => saved }),
            Err(_) => Err(DomainError::NotFound("announcement")),
        },
        (_, other) => Err(DomainError::Invalid(format!("unknown action {other:?}"))),
    };
    match outcome {
        // What shows a password once is answered in place; everything else redirects, so a
        // reload does not send the form again.
        Ok(extra) if matches!(f("action"), "create" | "reset") => {
            view(&state, &c, page, &me, &query, StatusCode::OK, extra).await
        }
        Ok(_) => Redirect::to(&format!("/admin/{}?notice=saved", page.slug())).into_response(),
        Err(e @ (DomainError::Invalid(_) | DomainError::Conflict(_))) => {
            let message = e.to_string();
            view(
                &state,
                &c,
                page,
                &me,
                &query,
                StatusCode::UNPROCESSABLE_ENTITY,
                context! { error => message },
            )
            .await
        }
        Err(e) => refused(&state, &c, e),
    }
}

/// A `datetime-local` value (`2026-12-24T09:00`, read as UTC) as RFC 3339; empty stays empty.
fn utc_minute(v: &str) -> String {
    if v.len() == 16 {
        format!("{v}:00Z")
    } else {
        v.to_string()
    }
}

/// The compose form: a preview renders the text as staff will see it; publishing publishes.
/// A refused draft comes back filled in, with the reason.
async fn announce(
    state: &AppState,
    c: &Ctx,
    me: &AccountRow,
    form: &HashMap<String, String>,
) -> Response {
    let f = |k: &str| form.get(k).cloned().unwrap_or_default();
    // `datetime-local` gives local time without a zone: read as UTC, as the page says.
    // `datetime-local` gives local time without a zone: read as UTC, as the form says.
    let time = |k: &str| Some(utc_minute(&f(k))).filter(|v| !v.is_empty());
    let draft = context! {
        text => f("text"), audience => f("audience"), starts_at => f("starts_at"),
        ends_at => f("ends_at"), all_day => f("all_day") == "true",
    };
    if f("action") == "preview" {
        let html = console::preview(&state.node, &f("text"));
        return render_with_draft(state, c, me, draft, Some(html), None).await;
    }
    let input = crate::domain::announcements::AnnouncementInput {
        text: Some(f("text")),
        starts_at: time("starts_at"),
        ends_at: time("ends_at"),
        all_day: Some(f("all_day") == "true"),
        audience: Some(f("audience")).filter(|a| !a.is_empty()),
        language: None,
    };
    match crate::domain::announcements::publish(&state.node, me, input).await {
        Ok(_) => Redirect::to("/admin/announcements?notice=ann-published").into_response(),
        Err(DomainError::Invalid(m)) => render_with_draft(state, c, me, draft, None, Some(m)).await,
        Err(e) => refused(state, c, e),
    }
}

async fn render_with_draft(
    state: &AppState,
    c: &Ctx,
    me: &AccountRow,
    draft: Value,
    preview: Option<String>,
    error: Option<String>,
) -> Response {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    match console::announcements(&state.node, me).await {
        Ok(items) => render(
            state,
            c,
            status,
            "announcements.html",
            "ann-heading",
            "announcements",
            context! { items, draft, preview, error },
        ),
        Err(e) => refused(state, c, e),
    }
}
