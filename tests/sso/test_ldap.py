"""Logging in against LDAP (Debian's slapd with a test directory): Mastodon.py's
authorization-code flow through fika's login form, provisioning, roles from groups, the
directory sync retiring a user removed from the directory, hostile login names, and the
break-glass admin while the directory is down. Local passwords are off on this node."""

from __future__ import annotations

import time

import requests
from mastodon import Mastodon

from sso_harness import Browser, form_with, harness

SCOPES = ["read", "write", "follow"]


def authorize_url(node) -> str:
    client_id, client_secret = node.app()
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base)
    return m.auth_request_url(redirect_uris=harness.CUSTOM_REDIRECT, scopes=SCOPES, state="s1", allow_http=True)


def form_login(node, login: str, password: str) -> tuple[Browser, requests.Response]:
    browser = Browser()
    page = browser.get(authorize_url(node))
    assert page.status_code == 200, page.text
    assert "Company username" in page.text
    r = browser.submit(node.base, form_with(page.text, 'name="password"'), username=login, password=password, decision="approve")
    return browser, r


def login(node, name: str, password: str) -> Mastodon:
    browser, r = form_login(node, name, password)
    assert r.status_code in (302, 303) and browser.app_redirect, (r.status_code, r.text[:1000])
    client_id, client_secret = node.app()
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base, request_timeout=30)
    m.log_in(code=browser.code(), redirect_uri=harness.CUSTOM_REDIRECT, scopes=SCOPES, allow_http=True)
    return m


def users_table(node) -> dict[str, tuple[str, str]]:
    out = node.cli("admin", "list-users")
    assert out.returncode == 0, out.stderr
    return {p[1]: (p[2], p[3]) for p in (line.split() for line in out.stdout.splitlines()[1:])}


def test_login_creates_the_account_and_maps_the_admin_group(ldap):
    directory, node = ldap
    m = login(node, "alice", "alice-pass")
    me = m.account_verify_credentials()
    assert me["username"] == "alice" and me["display_name"] == "Alice Admin"
    assert m.status_post("hello from the directory")["account"]["id"] == me["id"]
    assert users_table(node)["alice"] == ("admin", "active")
    again = login(node, "alice", "alice-pass").account_verify_credentials()
    assert again["id"] == me["id"]


def test_a_staff_member_is_a_user_and_a_wrong_password_is_refused(ldap):
    directory, node = ldap
    assert login(node, "bert", "bert-pass").account_verify_credentials()["username"] == "bert"
    assert users_table(node)["bert"] == ("user", "active")
    _, r = form_login(node, "bert", "wrong-pass")
    assert r.status_code == 401 and "Invalid username or password" in r.text


def test_a_user_outside_the_required_group_is_refused(ldap):
    directory, node = ldap
    _, r = form_login(node, "carl", "carl-pass")
    assert r.status_code == 403
    assert "not in the group" in r.text and "staff" in r.text
    assert "carl" not in users_table(node)


def test_hostile_login_names_match_nobody_and_write_nothing(ldap):
    directory, node = ldap
    before = users_table(node)
    for name in ["*)(uid=*", "*", "alice)(|(uid=*", "ali\x00ce", "\x00"]:
        for password in ["alice-pass", "x"]:
            _, r = form_login(node, name, password)
            assert r.status_code == 401, (name, r.status_code, r.text[:500])
            assert "Invalid username or password" in r.text
    # The password grant takes the same path.
    client_id, client_secret = node.app()
    r = requests.post(
        node.url("/oauth/token"),
        data={"grant_type": "password", "client_id": client_id, "client_secret": client_secret, "username": "*)(uid=*", "password": "x", "scope": "read"},
        timeout=30,
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert users_table(node) == before


def test_collision_with_a_local_account_is_refused(ldap):
    directory, node = ldap
    local = node.create_user("mallory")
    _, r = form_login(node, "mallory", "mallory-pass")
    assert r.status_code == 409 and "belongs to an existing account" in r.text
    # Local passwords are off here: the local account cannot log in either, until an admin
    # resolves the collision.
    _, r = form_login(node, "mallory", local.password)
    assert r.status_code in (401, 409)


def test_local_passwords_are_off_except_for_the_break_glass_admin(ldap):
    directory, node = ldap
    user = node.create_user("localonly")
    _, r = form_login(node, user.username, user.password)
    assert r.status_code == 401
    m = login(node, "admin", node.admin_password)
    assert m.account_verify_credentials()["username"] == "admin"


def test_the_sync_retires_a_user_removed_from_the_directory(ldap):
    directory, node = ldap
    m = login(node, "dora", "dora-pass")
    token = m.access_token
    assert harness.raw(node, "GET", "/api/v1/accounts/verify_credentials", token=token).status_code == 200
    directory.delete("uid=dora,ou=people,dc=fika,dc=test")
    # The sync runs every 2 s on this node.
    gone = harness.wait_for(
        lambda: harness.raw(node, "GET", "/api/v1/accounts/verify_credentials", token=token).status_code == 401,
        timeout=15,
    )
    assert gone, "dora's token still works after she left the directory"
    assert users_table(node)["dora"] == ("user", "suspended")
    audit = node.cli("admin", "federation", "audit").stdout
    assert "account.retire" in audit and "dora" in audit and "no longer found in the directory" in audit
    _, r = form_login(node, "dora", "dora-pass")
    assert r.status_code == 401
    # The other accounts were refreshed, not retired.
    log = node.log()
    assert "directory sync done" in log and "could not update" not in log, log[-3000:]
    assert all(state == "active" for name, (_, state) in users_table(node).items() if name != "dora")


def test_directory_down_break_glass_admin_still_logs_in(ldap):
    directory, node = ldap
    directory.stop()
    try:
        started = time.monotonic()
        _, r = form_login(node, "bert", "bert-pass")
        assert r.status_code == 503 and "directory cannot be reached" in r.text
        assert time.monotonic() - started < 10
        m = login(node, "admin", node.admin_password)
        assert m.account_verify_credentials()["username"] == "admin"
        # Nobody is retired while the directory cannot be asked.
        time.sleep(3)
        assert users_table(node)["bert"] == ("user", "active")
    finally:
        directory.start()
    assert login(node, "bert", "bert-pass").account_verify_credentials()["username"] == "bert"


def test_starttls_and_ldaps_with_the_company_ca(ldap):
    """The directory's certificate is checked: trusted through ldap.ca_file, refused without."""
    from conftest import finish_node, start_node

    directory, _ = ldap
    cases = [
        ({"FIKA_LDAP_URL": directory.url, "FIKA_LDAP_STARTTLS": "true", "FIKA_LDAP_CA_FILE": str(directory.ca_file)}, True),
        ({"FIKA_LDAP_URL": directory.ldaps_url, "FIKA_LDAP_CA_FILE": str(directory.ca_file)}, True),
        ({"FIKA_LDAP_URL": directory.ldaps_url}, False),
    ]
    for settings, trusted in cases:
        node = start_node({**directory.env(), **settings})
        try:
            if trusted:
                assert login(node, "bert", "bert-pass").account_verify_credentials()["username"] == "bert"
            else:
                _, r = form_login(node, "bert", "bert-pass")
                assert r.status_code == 503 and "directory cannot be reached" in r.text
                assert "bert" not in users_table(node)
        finally:
            finish_node(node)


def test_the_web_console_follows_the_same_login_rules(ldap):
    """The admin console's own login form: the directory, no local passwords but the
    break-glass admin's."""
    directory, node = ldap

    def console_login(name: str, password: str) -> int:
        browser = Browser()
        page = browser.s.get(node.url("/admin/login"), timeout=30)
        form = form_with(page.text, 'name="password"')
        r = browser.s.post(
            node.url(form["action"] or "/admin/login"),
            data={**form["fields"], "login": name, "password": password},
            allow_redirects=False,
            timeout=30,
        )
        return r.status_code

    local = node.cli("admin", "create-user", "localadmin", "--role", "admin", "--password-stdin", stdin="local-admin-pass\n")
    assert local.returncode == 0, local.stderr
    assert console_login("alice", "alice-pass") == 303
    assert console_login("localadmin", "local-admin-pass") == 401
    assert console_login("admin", node.admin_password) == 303
