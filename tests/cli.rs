//! The command line sysadmins and admins use: configuration checks and account management.

mod common;

use common::{base_command, stderr, stdout, TestDb};

#[test]
fn bad_configuration_values_exit_non_zero_naming_the_key() {
    let db = TestDb::new();
    let out = base_command()
        .args(["serve"])
        .envs(db.env())
        .env("FIKA_SERVER_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out).to_lowercase();
    assert!(err.contains("server.listen"), "{err}");

    let file = db.data_dir().join("fika.toml");
    std::fs::write(&file, "[log]\nformat = \"xml\"\n").unwrap();
    let out = base_command()
        .args(["--config", file.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("log.format"), "{}", stderr(&out));

    std::fs::write(&file, "[server]\nlisten = \"0.0.0.0:8080\"\n").unwrap();
    let out = base_command()
        .args(["--config", file.to_str().unwrap(), "serve"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("server.domain"), "{}", stderr(&out));

    let out = base_command()
        .args(["config", "check"])
        .env("FIKA_DATABASE_URL", "mysql://localhost/fika")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("database.url"), "{}", stderr(&out));

    let out = base_command()
        .args(["--config", "/nonexistent/fika.toml", "config", "check"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("/nonexistent/fika.toml"),
        "{}",
        stderr(&out)
    );

    std::fs::write(&file, "[server]\nnode_name = \"Sales\"\n").unwrap();
    let out = base_command()
        .args(["--config", file.to_str().unwrap(), "config", "check"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("node_name = \"Sales\""),
        "{}",
        stdout(&out)
    );
}

#[test]
fn admin_commands_manage_accounts() {
    let db = TestDb::new();
    let out = db.cli(&["migrate"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = db.cli(&["admin", "create-user", "ada", "--email", "ada@hq.example"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("created ada (user)"));
    let generated = stdout(&out)
        .lines()
        .find_map(|l| l.strip_prefix("password: ").map(str::to_string))
        .expect("a generated password is printed");
    assert!(generated.len() >= 16);

    // Case-insensitively unique, validated names.
    let out = db.cli(&["admin", "create-user", "ADA"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("taken"), "{}", stderr(&out));
    let out = db.cli(&["admin", "create-user", "bad-name"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("letters, digits and underscore"),
        "{}",
        stderr(&out)
    );
    let out = db.cli(&["admin", "create-user", "other", "--email", "ADA@hq.example"]);
    assert!(!out.status.success(), "emails are unique too");

    let out = db.cli_with_stdin(
        &[
            "admin",
            "create-user",
            "grace",
            "--role",
            "admin",
            "--password-stdin",
        ],
        Some("a long enough password\n"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stdout(&out).contains("password:"),
        "a given password is not echoed"
    );

    let out = db.cli_with_stdin(
        &["admin", "set-password", "ada", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("at least 8"), "{}", stderr(&out));
    let out = db.cli(&["admin", "set-password", "ada"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = db.cli(&["admin", "set-password", "nobody"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not found"), "{}", stderr(&out));

    let out = db.cli(&["admin", "set-role", "Ada", "moderator"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = db.cli(&["admin", "set-role", "ada", "root"]);
    assert!(!out.status.success());

    let out = db.cli(&["admin", "suspend", "grace"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = db.cli(&["admin", "list-users"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let listing = stdout(&out);
    let line = |name: &str| {
        listing
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap_or_else(|| panic!("{name} missing from {listing}"))
            .to_string()
    };
    assert!(line("ada").contains("moderator"), "{listing}");
    assert!(line("grace").contains("admin"), "{listing}");
    assert!(line("grace").contains("suspended"), "{listing}");
    assert_eq!(
        listing.lines().count(),
        3,
        "header and two accounts: {listing}"
    );
}

#[test]
fn the_example_configuration_is_valid() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/config.example.toml");
    let out = base_command()
        .args(["--config", example, "config", "check"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(shown.contains("mode = \"allowlist\""), "{shown}");
    assert!(shown.contains("postgres://fika@localhost/fika"), "{shown}");
}

#[test]
fn unknown_environment_variables_are_refused_by_name() {
    let db = TestDb::new();
    for command in [&["config", "check"][..], &["serve"][..]] {
        let out = base_command()
            .args(command)
            .envs(db.env())
            .env("FIKA_OIDCX_ISSUER", "https://login.example.com")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("FIKA_OIDCX_ISSUER"),
            "{}",
            stderr(&out)
        );
    }
    // The settings themselves, the file's path and the test suites' own variables pass.
    let out = base_command()
        .args(["config", "check"])
        .envs(db.env())
        .env("FIKA_OIDC_ISSUER", "https://login.example.com")
        .env("FIKA_OIDC_CLIENT_ID", "fika")
        .env("FIKA_TEST_BACKEND", "sqlite")
        .env("FIKA_BENCH_NODE_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("issuer = \"https://login.example.com\""));
}
