"""Wire details that client libraries parse strictly (ids, dates, HTML, URLs), read raw."""

from __future__ import annotations

import re

import pytest

from conftest import raw

DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$")


@pytest.fixture(scope="module")
def pair(node):
    return node.user("w_alice"), node.user("w_bob")


def test_status_wire_format(node, pair):
    alice, bob = pair
    parent = alice.api.status_post("the parent #WireTag")
    r = raw(
        node,
        "POST",
        "/api/v1/statuses",
        token=bob.token,
        json={"status": "@w_alice see https://example.com/a/very/long/path/that/goes/on", "in_reply_to_id": parent["id"]},
    )
    assert r.status_code == 200, r.text
    s = r.json()
    assert isinstance(s["id"], str) and s["id"].isdigit()
    assert s["in_reply_to_id"] == parent["id"] and isinstance(s["in_reply_to_account_id"], str)
    assert isinstance(s["account"]["id"], str)
    assert DATETIME.match(s["created_at"]), s["created_at"]
    assert DATETIME.match(s["account"]["created_at"]), s["account"]["created_at"]
    last = s["account"]["last_status_at"]
    assert last is None or re.match(r"^\d{4}-\d\d-\d\d$", last), last
    assert s["uri"].startswith(f"{node.base}/users/w_bob/")
    assert s["url"].startswith(f"{node.base}/@w_bob/")
    assert s["account"]["url"] == f"{node.base}/@w_bob"
    assert s["account"]["acct"] == "w_bob"
    # Mentions and links as Mastodon renders them.
    [mention] = s["mentions"]
    assert mention["id"] == alice.id and mention["acct"] == "w_alice" and mention["url"] == f"{node.base}/@w_alice"
    assert re.search(r'<a [^>]*href="http://127\.0\.0\.1:\d+/@w_alice"[^>]*class="[^"]*mention', s["content"]) or re.search(
        r'<a [^>]*class="[^"]*mention[^"]*"[^>]*href="http://127\.0\.0\.1:\d+/@w_alice"', s["content"]
    ), s["content"]
    assert 'href="https://example.com/a/very/long/path/that/goes/on"' in s["content"], s["content"]
    # The parent's hashtag.
    p = raw(node, "GET", f"/api/v1/statuses/{parent['id']}", token=alice.token).json()
    [tag] = p["tags"]
    assert tag["name"].lower() == "wiretag" and tag["url"].startswith(node.base)
    assert re.search(r'<a [^>]*rel="tag"', p["content"]) or 'class="mention hashtag"' in p["content"], p["content"]
    assert "<script" not in p["content"]


def test_html_in_text_is_escaped(node, pair):
    alice, _ = pair
    s = alice.api.status_post('<script>alert("x")</script> <a href="javascript:x">link</a>')
    assert "<script" not in s["content"]
    assert "javascript:" not in s["content"] or "&lt;a href=" in s["content"]


def test_credential_account(node, pair):
    alice, _ = pair
    r = raw(node, "GET", "/api/v1/accounts/verify_credentials", token=alice.token)
    a = r.json()
    for key in ("id", "username", "acct", "display_name", "locked", "bot", "created_at", "note", "url",
                "avatar", "avatar_static", "header", "header_static", "followers_count", "following_count",
                "statuses_count", "emojis", "fields"):
        assert key in a, key
    assert a["avatar"].startswith("http") and a["header"].startswith("http")
    assert set(a["source"]) >= {"privacy", "sensitive", "note", "fields"}


def test_toot_browser_login_url_with_trailing_slash(node):
    client_id, _ = node.app()
    r = raw(
        node,
        "GET",
        "/oauth/authorize/?response_type=code&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"
        f"&scope=read+write+follow&client_id={client_id}",
    )
    assert r.status_code == 200, f"{r.status_code} {r.text[:200]}"
    assert r.headers["content-type"].startswith("text/html")
