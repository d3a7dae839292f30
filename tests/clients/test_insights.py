"""The Mastodon admin dashboard API driven with Mastodon.py: measures, dimensions, retention
cohorts and trends, on a node of its own so the counts are exact; the effect of new activity is
read through a second call. Non-admins are refused and bad ranges get a Mastodon-style error."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from mastodon import Mastodon, MastodonAPIError

from conftest import HTTP_TIMEOUT, OOB, SCOPES, finish_node, raw, start_node

ADMIN_SCOPES = SCOPES + ["admin:read", "admin:write"]


def admin_login(node, user) -> Mastodon:
    client_id, client_secret = Mastodon.create_app(
        "fika dashboard tests", scopes=ADMIN_SCOPES, redirect_uris=OOB, api_base_url=node.base
    )
    m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=node.base,
                 request_timeout=HTTP_TIMEOUT)
    m.log_in(user.email, user.password, scopes=ADMIN_SCOPES, allow_http=True)
    return m


@pytest.fixture(scope="module")
def world():
    n = start_node()
    try:
        boss = n.create_user("d_boss")
        out = n.cli("admin", "set-role", boss.username, "admin")
        assert out.returncode == 0, out.stderr
        boss.api = admin_login(n, boss)
        alice = n.user("d_alice")
        bob = n.user("d_bob")
        yield n, boss, alice, bob
    finally:
        finish_node(n)


def today_range():
    now = datetime.now(timezone.utc)
    return now - timedelta(days=6), now


def by_key(items):
    return {m["key"]: m for m in items}


def test_measures_count_what_happened_and_change_with_it(world):
    n, boss, alice, bob = world
    st = alice.api.status_post("the #quarterly review is out", visibility="public", language="en")
    bob.api.status_favourite(st["id"])
    bob.api.status_reblog(st["id"])
    bob.api.status_post("thanks for it", in_reply_to_id=st["id"])

    tags = boss.api.admin_trending_tags()
    quarterly = next(t for t in tags if t["name"] == "quarterly")
    assert quarterly["id"] and quarterly["history"][0]["uses"] == "1"

    start, end = today_range()
    measures = by_key(boss.api.admin_measures(
        start, end, active_users=True, new_users=True, interactions=True, opened_reports=True,
        resolved_reports=True, tag_accounts=quarterly["id"], tag_uses=quarterly["id"],
        tag_servers=quarterly["id"], instance_accounts="peer.example", instance_statuses="peer.example",
        instance_follows="peer.example", instance_followers="peer.example",
        instance_media_attachments="peer.example", instance_reports="peer.example",
    ))
    assert set(measures) == {
        "active_users", "new_users", "interactions", "opened_reports", "resolved_reports",
        "tag_accounts", "tag_uses", "tag_servers", "instance_accounts", "instance_statuses",
        "instance_follows", "instance_followers", "instance_media_attachments", "instance_reports",
    }
    for m in measures.values():
        assert len(m["data"]) == 7, m
        assert all(isinstance(d["date"], datetime) for d in m["data"])
    # On the wire, numbers are strings and dates midnight UTC, as Mastodon sends them (Mastodon.py
    # turns them into ints and datetimes).
    wire = raw(n, "POST", "/api/v1/admin/measures", token=boss.api.access_token,
               json={"keys": ["interactions"], "start_at": start.isoformat(), "end_at": end.isoformat()}).json()
    assert wire[0]["total"] == "3" and wire[0]["previous_total"] == "0", wire
    assert wire[0]["data"][-1] == {"date": end.strftime("%Y-%m-%dT00:00:00.000+00:00"), "value": "3"}
    # The admin, alice and bob made requests today; the first start's admin and the three
    # accounts were created today.
    assert int(measures["active_users"]["total"]) == 3
    assert int(measures["new_users"]["total"]) == 4
    assert int(measures["new_users"]["previous_total"]) == 0
    # A favourite, a boost and a reply on alice's status.
    assert int(measures["interactions"]["total"]) == 3
    assert int(measures["interactions"]["data"][-1]["value"]) == 3
    assert int(measures["tag_uses"]["total"]) == 1
    assert int(measures["tag_accounts"]["total"]) == 1
    assert int(measures["tag_servers"]["total"]) == 0
    assert measures["instance_media_attachments"]["unit"] == "bytes"
    assert int(measures["opened_reports"]["total"]) == 0

    # The effect of one more favourite, read through a second call.
    carol = n.user("d_carol")
    carol.api.status_favourite(st["id"])
    again = by_key(boss.api.admin_measures(start, end, interactions=True, active_users=True))
    assert int(again["interactions"]["total"]) == 4
    assert int(again["active_users"]["total"]) == 4


def test_dimensions_retention_and_trends(world):
    n, boss, alice, bob = world
    st = alice.api.status_post("a #roadmap in English", visibility="public", language="en")
    bob.api.status_favourite(st["id"])
    start, end = today_range()
    dims = by_key(boss.api.admin_dimensions(start, end, languages=True, sources=True, servers=True,
                                            space_usage=True, software_versions=True))
    assert set(dims) == {"languages", "sources", "servers", "space_usage", "software_versions"}
    langs = {d["key"]: d for d in dims["languages"]["data"]}
    assert langs["en"]["human_key"] == "English"
    assert int(langs["en"]["value"]) >= 1
    sources = [d["key"] for d in dims["sources"]["data"]]
    assert "fika client tests" in sources
    assert dims["servers"]["data"] == []
    usage = {d["key"]: d for d in dims["space_usage"]["data"]}
    engine = "postgresql" if "postgresql" in usage else "sqlite"
    assert int(usage[engine]["value"]) > 0 and usage[engine]["unit"] == "bytes"
    # Versions are text, which Mastodon.py reads as numbers (and drops): read them as sent.
    wire = raw(n, "POST", "/api/v1/admin/dimensions", token=boss.api.access_token,
               json={"keys": ["software_versions"], "start_at": "2026-11-01", "end_at": "2026-11-07"}).json()
    versions = {d["key"]: d["value"] for d in wire[0]["data"]}
    assert versions["fika"] and versions[engine], wire

    cohorts = boss.api.admin_retention(start, end, frequency="day")
    assert len(cohorts) == 7
    joined_today = cohorts[-1]
    assert joined_today["frequency"] == "day"
    assert joined_today["data"][0]["rate"] == 1.0
    assert int(joined_today["data"][0]["value"]) >= 4
    assert all(int(c["data"][0]["value"]) == 0 for c in cohorts[:-1])
    monthly = boss.api.admin_retention(start - timedelta(days=40), end, frequency="month")
    assert monthly and monthly[-1]["frequency"] == "month"

    trending = boss.api.admin_trending_statuses()
    assert trending and trending[0]["id"] in {st["id"]} | {s["id"] for s in trending}
    assert any(s["id"] == st["id"] for s in trending)
    assert boss.api.admin_trending_links() == []


def test_staff_are_refused_and_bad_ranges_are_explained(world):
    n, boss, alice, bob = world
    start, end = today_range()
    r = raw(n, "POST", "/api/v1/admin/measures", token=alice.token,
            json={"keys": ["active_users"], "start_at": "2026-11-01", "end_at": "2026-11-07"})
    assert r.status_code == 403, r.text
    assert "error" in r.json()
    token = boss.api.access_token
    for body in (
        {"keys": ["active_users"], "end_at": "2026-11-07"},
        {"keys": ["active_users"], "start_at": "yesterday", "end_at": "2026-11-07"},
        {"keys": ["active_users"], "start_at": "2026-11-08", "end_at": "2026-11-07"},
        {"keys": ["tag_uses"], "start_at": "2026-11-01", "end_at": "2026-11-07"},
    ):
        r = raw(n, "POST", "/api/v1/admin/measures", token=token, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]
    r = raw(n, "POST", "/api/v1/admin/retention", token=token,
            data={"start_at": "2026-11-01", "end_at": "2026-11-07", "frequency": "weekly"})
    assert r.status_code == 422 and "frequency" in r.json()["error"]
    r = raw(n, "POST", "/api/v1/admin/measures", token=token, data="{not json",
            headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    with pytest.raises(MastodonAPIError):
        alice.api.admin_retention(start, end)
