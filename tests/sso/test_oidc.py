"""Logging in with OpenID Connect: Mastodon.py's authorization-code flow through fika's login
page, the provider's own login form and fika's consent page, against a real oidc-provider."""

from __future__ import annotations

import copy
import time
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests
from mastodon import Mastodon

from sso_harness import Browser, form_with, harness

SCOPES = ["read", "write", "follow"]


def app(node) -> tuple[str, str]:
    return node.app()


def authorize_url(node) -> str:
    client_id, client_secret = app(node)
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base)
    return m.auth_request_url(redirect_uris=harness.CUSTOM_REDIRECT, scopes=SCOPES, state="app-state", allow_http=True)


def to_provider_form(node, browser: Browser) -> requests.Response:
    """From the app's authorization URL to the provider's login form."""
    page = browser.get(authorize_url(node))
    assert page.status_code == 200, page.text
    assert "Log in with Test Company ID" in page.text
    r = browser.submit(node.base, form_with(page.text, "oidc-login"))
    assert r.status_code == 200 and "Company login" in r.text, (r.status_code, r.text[:2000])
    return r


def provider_login(browser: Browser, provider_form: requests.Response, login: str, password: str) -> requests.Response:
    """Submits the provider's own form; returns what fika answered on the callback."""
    form = form_with(provider_form.text, "/login")
    return browser.submit(provider_form.url, form, login=login, password=password)


def consent(node, browser: Browser, page: requests.Response, decision: str = "approve") -> requests.Response:
    assert page.status_code == 200 and "You are logged in as" in page.text, (page.status_code, page.text[:2000])
    return browser.submit(node.base, form_with(page.text, "sso_ticket"), decision=decision)


def full_login(node, login: str, password: str) -> Mastodon:
    """The whole flow as a person in a browser and the app do it; a logged-in Mastodon.py."""
    browser = Browser()
    callback = provider_login(browser, to_provider_form(node, browser), login, password)
    consent(node, browser, callback)
    client_id, client_secret = app(node)
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base, request_timeout=30)
    m.log_in(code=browser.code(), redirect_uri=harness.CUSTOM_REDIRECT, scopes=SCOPES, allow_http=True)
    return m


def users_table(node) -> dict[str, tuple[str, str]]:
    """username → (role, state) from `fika admin list-users`."""
    out = node.cli("admin", "list-users")
    assert out.returncode == 0, out.stderr
    rows = {}
    for line in out.stdout.splitlines()[1:]:
        parts = line.split()
        rows[parts[1]] = (parts[2], parts[3])
    return rows


def test_login_creates_the_account_with_mapped_name_and_role(oidc):
    provider, node = oidc
    m = full_login(node, "ada.lovelace", "ada-pass")
    me = m.account_verify_credentials()
    assert me["username"] == "ada_lovelace"
    assert me["display_name"] == "Ada Lovelace"
    status = m.status_post("logged in with the company identity")
    assert status["account"]["username"] == "ada_lovelace"
    assert users_table(node)["ada_lovelace"] == ("admin", "active")


def test_a_member_of_a_communicator_group_is_a_communicator(oidc):
    provider, node = oidc
    full_login(node, "cat", "cat-pass")
    assert users_table(node)["cat"] == ("communicator", "active")


def test_second_login_links_to_the_same_account_and_syncs_the_profile(oidc):
    provider, node = oidc
    first = full_login(node, "bob", "bob-pass").account_verify_credentials()
    assert users_table(node)["bob"] == ("user", "active")
    users = copy.deepcopy(provider.users)
    users["u-bob"]["name"] = "Bob Renamed"
    users["u-bob"]["groups"] = ["staff", "it-admins"]
    provider.set_users(users)
    again = full_login(node, "bob", "bob-pass").account_verify_credentials()
    assert again["id"] == first["id"]
    assert again["display_name"] == "Bob Renamed"
    assert users_table(node)["bob"] == ("admin", "active")


def test_a_user_outside_the_required_group_is_refused(oidc):
    provider, node = oidc
    browser = Browser()
    page = provider_login(browser, to_provider_form(node, browser), "eve", "eve-pass")
    assert page.status_code == 403
    assert "not in the group" in page.text and "staff" in page.text
    assert "eve" not in users_table(node)


def test_leaving_the_required_group_retires_the_account_at_the_next_login(oidc):
    provider, node = oidc
    users = copy.deepcopy(provider.users)
    users["u-fay"] = {"password": "fay-pass", "preferred_username": "fay", "name": "Fay", "email": "fay@hq.example.com", "groups": ["staff"]}
    provider.set_users(users)
    m = full_login(node, "fay", "fay-pass")
    token = m.access_token
    users["u-fay"]["groups"] = []
    provider.set_users(users)
    browser = Browser()
    page = provider_login(browser, to_provider_form(node, browser), "fay", "fay-pass")
    assert page.status_code == 403
    assert users_table(node)["fay"] == ("user", "suspended")
    r = harness.raw(node, "GET", "/api/v1/accounts/verify_credentials", token=token)
    assert r.status_code == 401
    audit = node.cli("admin", "federation", "audit")
    assert "account.retire" in audit.stdout and "fay" in audit.stdout and "required group" in audit.stdout


def test_collision_with_a_local_account_is_refused_and_nothing_taken_over(oidc):
    provider, node = oidc
    local = node.create_user("mallory")
    users = copy.deepcopy(provider.users)
    users["u-mal"] = {"password": "mal-pass", "preferred_username": "Mallory", "name": "Other Mallory", "email": "m2@hq.example.com", "groups": ["staff"]}
    provider.set_users(users)
    browser = Browser()
    page = provider_login(browser, to_provider_form(node, browser), "Mallory", "mal-pass")
    assert page.status_code == 409
    assert "belongs to an existing account" in page.text and "Username collisions" in page.text
    # The local account is untouched and still logs in with its own password.
    me = node.login(local).account_verify_credentials()
    assert me["username"] == "mallory" and me["display_name"] == ""
    # The documented resolution when it is the same person: an admin links the account.
    out = node.cli("admin", "link-identity", "mallory", "oidc", "u-mal", "--issuer", provider.issuer)
    assert out.returncode == 0, out.stderr
    linked = full_login(node, "Mallory", "mal-pass").account_verify_credentials()
    assert linked["id"] == me["id"] and linked["display_name"] == "Other Mallory"
    assert "account.link" in node.cli("admin", "federation", "audit").stdout


def test_wrong_state_is_refused(oidc):
    provider, node = oidc
    r = requests.get(node.url("/oauth/oidc/callback"), params={"state": "made-up", "code": "x"}, timeout=30)
    assert r.status_code == 400
    assert "state" in r.text


def test_replayed_callback_and_replayed_code_are_refused(oidc):
    provider, node = oidc
    before = users_table(node)
    browser = Browser()
    form = to_provider_form(node, browser)
    # Stop at the callback: the browser's last hop before fika is the provider's redirect.
    r = browser.s.post(
        urljoin(form.url, form_with(form.text, "/login")["action"]),
        data={"login": "bob", "password": "bob-pass"},
        allow_redirects=False,
        timeout=30,
    )
    callback = None
    while r.status_code in (302, 303):
        location = urljoin(r.url, r.headers["Location"])
        if location.startswith(node.base + "/oauth/oidc/callback"):
            callback = location
            break
        r = browser.s.get(location, allow_redirects=False, timeout=30)
    assert callback, "the provider did not send the browser back to fika"
    # Another browser given this link (login CSRF) is refused, and the login stays usable.
    stranger = requests.get(callback, timeout=30)
    assert stranger.status_code == 400 and "not started in this browser" in stranger.text
    first = browser.s.get(callback, timeout=30)
    assert first.status_code == 200 and "You are logged in as" in first.text
    again = browser.s.get(callback, timeout=30)
    assert again.status_code == 400 and "used already" in again.text
    # The same code with a fresh state: the provider refuses it (codes are good once).
    old_code = parse_qs(urlparse(callback).query)["code"][0]
    fresh = Browser()
    to_provider_form(node, fresh)
    state = parse_qs(urlparse(fresh.history[0]).query)["state"][0]
    r = fresh.s.get(node.url("/oauth/oidc/callback"), params={"state": state, "code": old_code}, timeout=30)
    assert r.status_code == 400 and "refused the code" in r.text
    assert users_table(node) == before


@pytest.mark.parametrize("tamper", ["aud", "expired"])
def test_id_token_with_wrong_audience_or_expired_is_refused(oidc, tamper):
    provider, node = oidc
    users = copy.deepcopy(provider.users)
    users["u-gil"] = {"password": "gil-pass", "preferred_username": "gil", "name": "Gil", "email": "gil@hq.example.com", "groups": ["staff"]}
    provider.set_users(users)
    provider.mode(tamper=tamper)
    try:
        browser = Browser()
        page = provider_login(browser, to_provider_form(node, browser), "gil", "gil-pass")
    finally:
        provider.mode()
    assert page.status_code == 400, page.text
    assert "could not be verified" in page.text
    assert "gil" not in users_table(node)


def test_signing_key_rotation_is_followed(oidc):
    provider, node = oidc
    full_login(node, "bob", "bob-pass")  # the node holds the current keys
    provider.rotate_key()
    m = full_login(node, "bob", "bob-pass")
    assert m.account_verify_credentials()["username"] == "bob"
    assert "fetched the OpenID provider's signing keys again" in node.log()


def test_slow_provider_times_out_with_a_clear_page(oidc):
    provider, node = oidc
    users = copy.deepcopy(provider.users)
    users["u-hal"] = {"password": "hal-pass", "preferred_username": "hal", "name": "Hal", "email": "hal@hq.example.com", "groups": ["staff"]}
    provider.set_users(users)
    browser = Browser()
    form = to_provider_form(node, browser)
    provider.mode(slow=6)
    try:
        started = time.monotonic()
        page = provider_login(browser, form, "hal", "hal-pass")
        took = time.monotonic() - started
    finally:
        provider.mode()
    assert page.status_code == 503, page.text
    assert "cannot be reached" in page.text
    assert took < 6, took
    assert "hal" not in users_table(node)


def test_provider_down_gives_a_clear_page_and_writes_nothing():
    """A node whose provider does not answer at all (nothing listens on its issuer's port)."""
    from conftest import finish_node, start_node

    dead = f"http://127.0.0.1:{harness.free_port()}"
    node = start_node(
        {
            "FIKA_OIDC_ISSUER": dead,
            "FIKA_OIDC_CLIENT_ID": "fika",
            "FIKA_OIDC_CLIENT_SECRET": "x",
            "FIKA_OIDC_TIMEOUT_SECONDS": "2",
        }
    )
    try:
        browser = Browser()
        page = browser.get(authorize_url(node))
        r = browser.submit(node.base, form_with(page.text, "oidc-login"))
        assert r.status_code == 503
        assert "cannot be reached" in r.text
        # Password logins still work.
        user = node.create_user("local_one")
        assert node.login(user).account_verify_credentials()["username"] == "local_one"
    finally:
        finish_node(node)


@pytest.mark.parametrize("command", [["config", "check"], ["serve"]])
def test_unknown_fika_variable_is_refused_by_name(command, tmp_path):
    out = harness.subprocess.run(
        [harness.FIKA_BIN, *command],
        env=harness.clean_env({"FIKA_OIDCX_ISSUER": "https://login.example.com", "FIKA_DATA_DIR": str(tmp_path)}),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 2, out
    assert "FIKA_OIDCX_ISSUER" in out.stderr
