"""Error paths as real clients meet them; after each, nothing was written."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError, MastodonNotFoundError, MastodonUnauthorizedError

from conftest import raw, statuses_count


@pytest.fixture(scope="module")
def alice(node):
    u = node.user("e_alice")
    u.api.status_post("one status so that the timeline is not empty")
    return u


def own_status_ids(user):
    return [s["id"] for s in user.api.account_statuses(user.id, limit=40)]


def assert_json_error(r, status):
    assert r.status_code == status, f"{r.status_code} {r.text[:300]}"
    assert r.headers["content-type"].startswith("application/json"), r.headers["content-type"]
    body = r.json()
    assert isinstance(body.get("error"), str) and body["error"], body


def test_missing_token(node, alice):
    before, before_ids = statuses_count(alice), own_status_ids(alice)
    anon = node.client()
    with pytest.raises(MastodonUnauthorizedError):
        anon.account_verify_credentials()
    with pytest.raises(MastodonUnauthorizedError):
        anon.status_post("posted without a token")
    with pytest.raises(MastodonUnauthorizedError):
        anon.timeline_home()
    assert_json_error(raw(node, "POST", "/api/v1/statuses", data={"status": "x"}), 401)
    assert statuses_count(alice) == before
    assert own_status_ids(alice) == before_ids


def test_invalid_token(node, alice):
    before = statuses_count(alice)
    bogus = node.client("not-a-real-token")
    with pytest.raises(MastodonUnauthorizedError):
        bogus.account_verify_credentials()
    with pytest.raises(MastodonUnauthorizedError):
        bogus.status_post("posted with a bogus token")
    assert_json_error(raw(node, "GET", "/api/v1/accounts/verify_credentials", token="nope"), 401)
    assert statuses_count(alice) == before


def test_read_scope_cannot_post(node, alice):
    reader = node.login(alice, scopes=["read"])
    before, before_ids = statuses_count(alice), own_status_ids(alice)
    # Reading works...
    assert reader.account_verify_credentials()["id"] == alice.id
    reader.timeline_home()
    # ... writing does not.
    with pytest.raises(MastodonAPIError) as e:
        reader.status_post("posted with a read-only token")
    assert e.value.args[1] == 403, e.value.args
    with pytest.raises(MastodonAPIError) as e:
        reader.status_favourite(before_ids[0])
    assert e.value.args[1] == 403, e.value.args
    assert_json_error(raw(node, "POST", "/api/v1/statuses", token=reader.access_token, data={"status": "x"}), 403)
    assert statuses_count(alice) == before
    assert own_status_ids(alice) == before_ids
    assert alice.api.status(before_ids[0])["favourited"] is False


def test_unknown_status(node, alice):
    before = statuses_count(alice)
    with pytest.raises(MastodonNotFoundError):
        alice.api.status("999999999999999999")
    with pytest.raises(MastodonNotFoundError):
        alice.api.status_favourite("999999999999999999")
    with pytest.raises(MastodonAPIError) as e:
        alice.api.status_post("reply to nothing", in_reply_to_id="999999999999999999")
    assert e.value.args[1] in (404, 422), e.value.args
    assert_json_error(raw(node, "GET", "/api/v1/statuses/999999999999999999", token=alice.token), 404)
    # Non-numeric ids and unknown API paths are JSON 404s too, never HTML.
    assert_json_error(raw(node, "GET", "/api/v1/statuses/not-an-id", token=alice.token), 404)
    assert_json_error(raw(node, "GET", "/api/v1/no-such-endpoint", token=alice.token), 404)
    assert statuses_count(alice) == before


def test_empty_status(node, alice):
    before, before_ids = statuses_count(alice), own_status_ids(alice)
    with pytest.raises(MastodonAPIError) as e:
        alice.api.status_post("")
    assert e.value.args[1] == 422, e.value.args
    with pytest.raises(MastodonAPIError) as e:
        alice.api.status_post("   \n  ")
    assert e.value.args[1] == 422, e.value.args
    assert_json_error(raw(node, "POST", "/api/v1/statuses", token=alice.token, json={"status": ""}), 422)
    assert statuses_count(alice) == before
    assert own_status_ids(alice) == before_ids


def test_garbage_json_body(node, alice):
    before, before_ids = statuses_count(alice), own_status_ids(alice)
    r = raw(
        node,
        "POST",
        "/api/v1/statuses",
        token=alice.token,
        data=b'{"status": "half a document",',
        headers={"Content-Type": "application/json"},
    )
    assert_json_error(r, 400)
    assert statuses_count(alice) == before
    assert own_status_ids(alice) == before_ids


def test_too_long_status(node, alice):
    limit = node.client().instance_v2()["configuration"]["statuses"]["max_characters"]
    before = statuses_count(alice)
    with pytest.raises(MastodonAPIError) as e:
        alice.api.status_post("x" * (int(limit) + 1))
    assert e.value.args[1] == 422, e.value.args
    assert statuses_count(alice) == before
    # Exactly at the limit is fine.
    s = alice.api.status_post("y" * int(limit))
    assert statuses_count(alice) == before + 1
    alice.api.status_delete(s)
