"""Discovery, app registration and login, the way Mastodon.py (and apps like it) do it."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from mastodon import Mastodon, MastodonIllegalArgumentError

from conftest import CUSTOM_REDIRECT, HTTP_TIMEOUT, OOB, SCOPES, raw


@pytest.fixture(scope="module")
def staff(node):
    return node.create_user("staffer")


def test_instance_documents(node):
    # Mastodon.py asks for the trailing-slash form; toot for the plain one.
    for path in ("/api/v1/instance/", "/api/v1/instance"):
        r = raw(node, "GET", path)
        assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text[:300]}"
        v1 = r.json()
        # toot keys its configuration by `uri`: the domain (host:port here), not a URL.
        assert v1["uri"] == node.domain, v1.get("uri")
        assert isinstance(v1["version"], str) and re.match(r"^\d+\.\d+\.\d+", v1["version"])
        assert v1["urls"]["streaming_api"].startswith(("ws://127.0.0.1", "http://127.0.0.1"))
    v2 = node.client().instance_v2()
    assert v2["domain"] == node.domain
    streaming = v2["configuration"]["urls"]["streaming"]
    assert streaming.startswith(("ws://127.0.0.1", "http://127.0.0.1")), streaming
    media = v2["configuration"]["media_attachments"]
    assert int(media["image_size_limit"]) > 0
    assert "image/png" in media["supported_mime_types"]


def test_oauth_server_metadata(node):
    r = raw(node, "GET", "/.well-known/oauth-authorization-server")
    assert r.status_code == 200, r.text[:300]
    meta = r.json()
    assert meta["authorization_endpoint"] == node.url("/oauth/authorize")
    assert meta["token_endpoint"] == node.url("/oauth/token")
    assert "S256" in meta["code_challenge_methods_supported"]
    assert {"authorization_code", "password"} <= set(meta["grant_types_supported"]), (
        "FIKA_OAUTH_PASSWORD_GRANT=true should list the password grant"
    )
    assert {"read", "write", "follow", "push"} <= set(meta["scopes_supported"])


def test_register_app(node):
    client_id, client_secret = Mastodon.create_app(
        "register test",
        scopes=SCOPES,
        redirect_uris=[OOB, CUSTOM_REDIRECT],
        api_base_url=node.base,
    )
    assert client_id and client_secret and client_id != client_secret
    # The raw answer, as Tusky and Elk read it (form body with newline-separated URIs).
    r = raw(
        node,
        "POST",
        "/api/v1/apps",
        data={
            "client_name": "raw app",
            "redirect_uris": f"{OOB}\n{CUSTOM_REDIRECT}",
            "scopes": "read write follow push",
        },
    )
    assert r.status_code == 200, r.text
    app = r.json()
    assert app["name"] == "raw app"
    assert set(app["redirect_uris"]) == {OOB, CUSTOM_REDIRECT}
    assert set(app["scopes"]) == {"read", "write", "follow", "push"}
    assert app["client_id"] and app["client_secret"]
    # A JSON body (toot, Elk) works too.
    r = raw(
        node,
        "POST",
        "/api/v1/apps",
        json={"client_name": "json app", "redirect_uris": OOB, "scopes": "read write follow"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["redirect_uris"] == [OOB]
    # A redirect URI that is not absolute is refused.
    r = raw(node, "POST", "/api/v1/apps", data={"client_name": "bad", "redirect_uris": "not a uri"})
    assert r.status_code == 422, r.text
    assert "error" in r.json()


@pytest.mark.parametrize("login_name", ["email", "username"])
def test_password_grant(node, staff, login_name):
    client_id, client_secret = node.app()
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base, request_timeout=HTTP_TIMEOUT)
    name = staff.email if login_name == "email" else staff.username
    token = m.log_in(name, staff.password, scopes=SCOPES, allow_http=True)
    assert token
    me = m.account_verify_credentials()
    assert me["username"] == staff.username
    assert me["acct"] == staff.username
    assert "source" in me and "privacy" in me["source"]


def test_password_grant_wrong_password(node, staff):
    client_id, client_secret = node.app()
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base, request_timeout=HTTP_TIMEOUT)
    with pytest.raises(MastodonIllegalArgumentError):
        m.log_in(staff.email, staff.password + "x", scopes=SCOPES, allow_http=True)
    r = raw(
        node,
        "POST",
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": client_id,
            "client_secret": client_secret,
            "username": staff.email,
            "password": "wrong",
            "scope": "read",
        },
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_grant"


class _Inputs(HTMLParser):
    """Collects the <form> inputs of the authorize page (hidden fields such as a CSRF token)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.forms = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms += 1
        if tag == "input" and a.get("name") and a.get("type", "text") == "hidden":
            self.fields[a["name"]] = a.get("value") or ""


def _authorize(node, session, url: str, user, extra: dict | None = None):
    """GETs the authorize page like a browser, then submits its login form."""
    r = session.get(url, timeout=HTTP_TIMEOUT, allow_redirects=False)
    assert r.status_code == 200, f"GET {url}: {r.status_code} {r.text[:300]}"
    assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
    page = _Inputs()
    page.feed(r.text)
    assert page.forms >= 1, "the authorize page has no login form"
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    form = dict(page.fields)
    for key in ("client_id", "redirect_uri", "scope", "state", "response_type", "code_challenge", "code_challenge_method"):
        if key in query:
            form[key] = query[key]
    form.update({"username": user.username, "password": user.password, "decision": "approve"})
    form.update(extra or {})
    return session.post(node.url("/oauth/authorize"), data=form, timeout=HTTP_TIMEOUT, allow_redirects=False)


def _pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _custom_scheme_code(node, staff, challenge: str) -> str:
    import requests

    client_id, client_secret = node.app()
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base, request_timeout=HTTP_TIMEOUT)
    state = secrets.token_hex(8)
    url = m.auth_request_url(redirect_uris=CUSTOM_REDIRECT, scopes=SCOPES, state=state, lang="en", allow_http=True)
    assert url.startswith(node.url("/oauth/authorize?")), url
    url += "&" + urlencode({"code_challenge": challenge, "code_challenge_method": "S256"})
    with requests.Session() as s:
        r = _authorize(node, s, url, staff)
    assert r.status_code in (302, 303), f"{r.status_code} {r.text[:300]}"
    location = r.headers["location"]
    assert location.startswith(CUSTOM_REDIRECT + "?"), location
    params = parse_qs(urlsplit(location).query)
    assert params["state"] == [state]
    return params["code"][0]


def test_authorization_code_flow_custom_scheme_with_pkce(node, staff):
    client_id, client_secret = node.app()
    verifier, challenge = _pkce()
    token_form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": CUSTOM_REDIRECT,
    }

    # A PKCE-bound code is refused without the verifier, or with a wrong one.
    code = _custom_scheme_code(node, staff, challenge)
    r = raw(node, "POST", "/oauth/token", data={**token_form, "code": code})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_grant"
    r = raw(node, "POST", "/oauth/token", data={**token_form, "code": code, "code_verifier": "x" * 50})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_grant"

    code = _custom_scheme_code(node, staff, challenge)
    r = raw(node, "POST", "/oauth/token", data={**token_form, "code": code, "code_verifier": verifier})
    assert r.status_code == 200, r.text
    tok = r.json()
    assert tok["token_type"].lower() == "bearer"
    assert set(tok["scope"].split()) == set(SCOPES)
    assert isinstance(tok["created_at"], int)
    me = node.client(tok["access_token"]).account_verify_credentials()
    assert me["username"] == staff.username

    # A code works once.
    r = raw(node, "POST", "/oauth/token", data={**token_form, "code": code, "code_verifier": verifier})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_grant"


def test_authorization_code_flow_oob(node, staff):
    import requests

    client_id, client_secret = node.app()
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base, request_timeout=HTTP_TIMEOUT)
    url = m.auth_request_url(redirect_uris=OOB, scopes=SCOPES, state="oob-state", allow_http=True)
    with requests.Session() as s:
        r = _authorize(node, s, url, staff)
    assert r.status_code == 200, f"{r.status_code} {r.headers.get('location')} {r.text[:300]}"
    found = re.search(r'<code id="authorization-code">([^<]+)</code>', r.text)
    assert found, f"no authorization code on the page:\n{r.text[:1000]}"
    code = html.unescape(found.group(1)).strip()
    token = m.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    assert token
    assert m.account_verify_credentials()["username"] == staff.username


def test_authorize_with_wrong_password_issues_no_code(node, staff):
    import requests

    client_id, client_secret = node.app()
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base, request_timeout=HTTP_TIMEOUT)
    url = m.auth_request_url(redirect_uris=CUSTOM_REDIRECT, scopes=SCOPES, state="s", allow_http=True)
    with requests.Session() as s:
        r = _authorize(node, s, url, staff, extra={"password": staff.password + "nope"})
    location = r.headers.get("location", "")
    assert "code=" not in location, location
    assert 'id="authorization-code"' not in r.text
    assert r.status_code in (200, 401, 403, 422), r.status_code


def test_read_only_token_gets_only_read(node, staff):
    m = node.login(staff, scopes=["read"])
    r = raw(node, "GET", "/api/v1/accounts/verify_credentials", token=m.access_token)
    assert r.status_code == 200, r.text
    r = raw(
        node,
        "POST",
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": node.app()[0],
            "client_secret": node.app()[1],
            "username": staff.email,
            "password": staff.password,
            "scope": "read",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json()["scope"].split() == ["read"]


def test_token_exchange_with_json_body(node, staff):
    """Elk exchanges the code with a JSON body that includes `scope`."""
    client_id, client_secret = node.app()
    verifier, challenge = _pkce()
    code = _custom_scheme_code(node, staff, challenge)
    r = raw(
        node,
        "POST",
        "/oauth/token",
        json={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uri": CUSTOM_REDIRECT,
            "code_verifier": verifier,
            "scope": " ".join(SCOPES),
        },
    )
    assert r.status_code == 200, r.text
    assert node.client(r.json()["access_token"]).account_verify_credentials()["username"] == staff.username


def test_client_credentials_app_token(node):
    """toot and others fetch an app-only token; it identifies the app, not a user."""
    client_id, client_secret = node.app()
    r = raw(
        node,
        "POST",
        "/oauth/token",
        json={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret, "scope": "read"},
    )
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    r = raw(node, "GET", "/api/v1/apps/verify_credentials", token=token)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "fika client tests"
    # An app token is not a user.
    r = raw(node, "GET", "/api/v1/accounts/verify_credentials", token=token)
    assert r.status_code in (401, 403, 422), r.status_code


def test_revoke_token(node):
    user = node.create_user("revoker")
    m = node.login(user)
    assert m.account_verify_credentials()["username"] == "revoker"
    m.revoke_access_token(allow_http=True)
    r = raw(node, "GET", "/api/v1/accounts/verify_credentials", token=m.access_token)
    assert r.status_code == 401, r.text
    # Revoking again is harmless.
    client_id, client_secret = node.app()
    r = raw(node, "POST", "/oauth/revoke", data={"client_id": client_id, "client_secret": client_secret, "token": m.access_token})
    assert r.status_code == 200, r.text


def test_version_checks_accept_the_reported_version(node, staff):
    """Mastodon.py with version checks on parses the version the node reports."""
    client_id, client_secret = node.app()
    m = Mastodon(
        client_id=client_id,
        client_secret=client_secret,
        api_base_url=node.base,
        request_timeout=HTTP_TIMEOUT,
        version_check_mode="created",
    )
    assert m.retrieve_mastodon_version(fail_hard=True)
    assert m.verify_minimum_version("2.0.0", cached=True)
    m.log_in(staff.email, staff.password, scopes=SCOPES, allow_http=True)
    assert m.account_verify_credentials()["username"] == staff.username
    assert m.timeline_home() is not None


def test_cors_for_web_clients(node):
    r = raw(
        node,
        "OPTIONS",
        "/api/v1/timelines/home",
        headers={
            "Origin": "https://phanpy.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert r.status_code in (200, 204), r.status_code
    assert r.headers.get("access-control-allow-origin") in ("*", "https://phanpy.example")
    r = raw(node, "GET", "/api/v1/instance", headers={"Origin": "https://phanpy.example"})
    assert "link" in r.headers.get("access-control-expose-headers", "").lower()
