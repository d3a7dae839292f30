//! The web console's guards, against a real node: a form without its CSRF token, a role that
//! may not open a page, an ended session, a bad announcement; each refused with a clear page and
//! nothing written. Logins are rate-limited. (The browser test is tests/console/.)

mod common;

use common::{client, create_user, db_scalar, Node, TestDb};
use reqwest::StatusCode;

/// A console session: its cookie and the CSRF token its pages carry.
struct Session {
    cookie: String,
    csrf: String,
}

fn csrf_in(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("a form with a CSRF token")
        + 19;
    html[at..].split('"').next().unwrap().to_string()
}

fn cookie_named(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn login(node: &Node, user: &str, password: &str) -> Result<Session, StatusCode> {
    let c = no_redirects();
    let page = c.get(node.url("/admin/login")).send().await.unwrap();
    let login_cookie = cookie_named(&page, "fika_console_login").unwrap();
    let token = csrf_in(&page.text().await.unwrap());
    let r = c
        .post(node.url("/admin/login"))
        .header("cookie", &login_cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("login", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    if r.status() != StatusCode::SEE_OTHER {
        return Err(r.status());
    }
    let set = r.headers().get_all("set-cookie");
    let cookie = set
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("fika_console="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_string();
    let landing = r.headers()["location"].to_str().unwrap().to_string();
    let html = c
        .get(node.url(&landing))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Ok(Session {
        cookie,
        csrf: csrf_in(&html),
    })
}

async fn post(node: &Node, s: &Session, page: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let r = no_redirects()
        .post(node.url(page))
        .header("cookie", &s.cookie)
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn announcements(db: &TestDb) -> i64 {
    db_scalar(db, "SELECT COUNT(*) FROM announcements", &[]).await
}

#[tokio::test]
async fn the_console_refuses_what_it_must_and_writes_nothing() {
    let db = TestDb::new();
    let node = Node::start_on(
        &db,
        common::free_port(),
        &[("FIKA_CONSOLE_IDLE_MINUTES", "1")],
    );
    let admin_pw = node
        .admin_password
        .clone()
        .expect("the first admin's password");
    let staff_pw = create_user(&db, "staff");
    let comms_pw = create_user(&db, "comms");
    assert!(db
        .cli(&["admin", "set-role", "comms", "communicator"])
        .status
        .success());

    // A user without a console role cannot log in; wrong passwords are refused alike.
    assert_eq!(
        login(&node, "staff", &staff_pw).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        login(&node, "admin", "wrong").await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );

    let admin = login(&node, "admin", &admin_pw).await.unwrap();
    // A form without the CSRF token (or with another session's) does nothing.
    let (code, html) = post(
        &node,
        &admin,
        "/admin/announcements",
        &[("action", "publish"), ("text", "hi")],
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    assert!(html.contains("This form has expired"), "{html}");
    let (code, _) = post(
        &node,
        &admin,
        "/admin/federation",
        &[
            ("action", "allow"),
            ("domain", "x.example"),
            ("csrf", "forged"),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let allows: i64 = db_scalar(&db, "SELECT COUNT(*) FROM federation_domains", &[]).await;
    assert_eq!(allows, 0);

    // An announcement that ends before it starts: the form comes back with the reason.
    let (code, html) = post(
        &node,
        &admin,
        "/admin/announcements",
        &[
            ("csrf", admin.csrf.as_str()),
            ("action", "publish"),
            ("text", "drill"),
            ("starts_at", "2030-01-02T10:00"),
            ("ends_at", "2030-01-01T10:00"),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("ends_at must be after starts_at") && html.contains(">drill</textarea>"));
    assert_eq!(announcements(&db).await, 0);
    // A good one is published and the page redirects (a reload sends nothing again).
    let (code, _) = post(
        &node,
        &admin,
        "/admin/announcements",
        &[
            ("csrf", admin.csrf.as_str()),
            ("action", "publish"),
            ("text", "drill at ten"),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::SEE_OTHER);
    assert_eq!(announcements(&db).await, 1);

    // A communicator sees the announcements page and nothing else.
    let comms = login(&node, "comms", &comms_pw).await.unwrap();
    for (page, want) in [
        ("/admin/announcements", StatusCode::OK),
        ("/admin/federation", StatusCode::FORBIDDEN),
        ("/admin/accounts", StatusCode::FORBIDDEN),
    ] {
        let r = no_redirects()
            .get(node.url(page))
            .header("cookie", &comms.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), want, "{page}");
    }
    let (code, _) = post(
        &node,
        &comms,
        "/admin/accounts",
        &[
            ("csrf", comms.csrf.as_str()),
            ("action", "create"),
            ("username", "sneaky"),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let sneaky: i64 = db_scalar(
        &db,
        "SELECT COUNT(*) FROM accounts WHERE username = 'sneaky'",
        &[],
    )
    .await;
    assert_eq!(sneaky, 0);

    // An ended session: the form is refused and asks for a login again.
    common::db_execute(
        &db,
        "UPDATE console_sessions SET last_seen_at = last_seen_at - 120000",
        &[],
    )
    .await;
    let (code, html) = post(
        &node,
        &admin,
        "/admin/announcements",
        &[
            ("csrf", admin.csrf.as_str()),
            ("action", "publish"),
            ("text", "late"),
        ],
    )
    .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert!(html.contains("Your session has ended"), "{html}");
    assert_eq!(announcements(&db).await, 1);

    // Logins are rate-limited per client address.
    let mut limited = false;
    for _ in 0..12 {
        if login(&node, "admin", "wrong").await.err() == Some(StatusCode::TOO_MANY_REQUESTS) {
            limited = true;
            break;
        }
    }
    assert!(limited, "no rate limit on console logins");
    let _ = client();
}
