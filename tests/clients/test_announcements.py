"""Announcements read with Mastodon.py, on two nodes that are each other's `org` peers: a
communicator on A publishes to the organisation (fika's admin API), B's staff list, react and
dismiss it through Mastodon.py's announcement methods, and A sees B's counts."""

from __future__ import annotations

import pytest
from mastodon import Mastodon, MastodonAPIError

from conftest import HTTP_TIMEOUT, OOB, SCOPES, raw, wait_for

ADMIN_SCOPES = SCOPES + ["admin:read", "admin:write"]


def admin_login(node, user) -> Mastodon:
    """A login with the admin scopes, through an app registered for them (as admin tools do)."""
    client_id, client_secret = Mastodon.create_app(
        "fika announcement tests", scopes=ADMIN_SCOPES, redirect_uris=OOB, api_base_url=node.base
    )
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base,
                 request_timeout=HTTP_TIMEOUT)
    m.log_in(user.email, user.password, scopes=ADMIN_SCOPES, allow_http=True)
    return m


@pytest.fixture(scope="module")
def world(peers):
    a, b = peers
    hr = a.create_user("an_hr")
    out = a.cli("admin", "set-role", hr.username, "communicator")
    assert out.returncode == 0, out.stderr
    hr.api = admin_login(a, hr)
    hr.token = hr.api.access_token
    reader = b.user("an_reader")
    other = b.user("an_other")
    return a, b, hr, reader, other


def test_publish_read_react_dismiss(world):
    a, b, hr, reader, other = world
    r = raw(a, "POST", "/api/v1/admin/announcements", token=hr.token,
            json={"text": "Quarterly all-hands on Thursday", "audience": "org", "all_day": False})
    assert r.status_code == 200, r.text
    published = r.json()

    listed = wait_for(lambda: reader.api.announcements(), timeout=20)
    assert listed, "the announcement did not reach B"
    ann = listed[0]
    assert "all-hands on Thursday" in ann["content"]
    assert ann["read"] is False and ann["all_day"] is False
    assert ann["reactions"] == []

    reader.api.announcement_reaction_create(ann["id"], "🎉")
    [again] = other.api.announcements()
    assert again["reactions"][0]["name"] == "🎉" and again["reactions"][0]["count"] == 1
    assert again["reactions"][0]["me"] is False
    with pytest.raises(MastodonAPIError) as e:
        reader.api.announcement_reaction_create(ann["id"], "party")
    assert e.value.args[1] == 422

    reader.api.announcement_dismiss(ann["id"])
    assert reader.api.announcements() == []
    assert other.api.announcements()[0]["id"] == ann["id"]

    def counted():
        s = raw(a, "GET", f"/api/v1/admin/announcements/{published['id']}", token=hr.token).json()
        nodes = [n for n in s["nodes"] if n["node"] == b.domain]
        return nodes[0] if nodes and nodes[0]["read"] == 1 and nodes[0]["reactions"].get("🎉") == 1 else None

    counts = wait_for(counted, timeout=20)
    assert counts, "B's counts did not reach A"
    assert counts["reached"] >= 2

    reader.api.announcement_reaction_delete(ann["id"], "🎉")
    assert other.api.announcements()[0]["reactions"] == []

    r = raw(a, "DELETE", f"/api/v1/admin/announcements/{published['id']}", token=hr.token)
    assert r.status_code == 200
    assert wait_for(lambda: other.api.announcements() == [], timeout=20)


def test_staff_cannot_publish(world):
    a, b, hr, reader, other = world
    user = a.user("an_plain")
    token = admin_login(a, user).access_token
    r = raw(a, "POST", "/api/v1/admin/announcements", token=token, json={"text": "hello"})
    assert r.status_code == 403, r.text
    assert "communicator" in r.json()["error"]
