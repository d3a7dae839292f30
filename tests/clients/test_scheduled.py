"""Scheduled statuses with Mastodon.py: `scheduled_at` answers a ScheduledStatus, which is
listed, moved and cancelled, and posted by the node when its time comes, also when the node
was stopped at that moment and started again. The lead a schedule needs (five minutes, as on
Mastodon) is two seconds here."""

from __future__ import annotations

import datetime
import time

import pytest
from mastodon import MastodonAPIError

from conftest import Node, finish_node, raw, start_node, wait_for

LEAD = {"FIKA_LIMITS_SCHEDULED_MIN_LEAD_SECONDS": "2"}


@pytest.fixture(scope="module")
def office():
    n = start_node(extra_env=LEAD)
    try:
        yield n
    finally:
        finish_node(n)


def in_seconds(s: float) -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=s)


def my_texts(user) -> list[str]:
    return [s["content"] for s in user.api.account_statuses(user.id)]


def test_a_scheduled_status_waits_then_is_posted_once(office):
    me = office.user("s_me")
    scheduled = me.api.status_post("posted later", scheduled_at=in_seconds(4), visibility="unlisted")
    assert "params" in scheduled and scheduled["params"]["text"] == "posted later"
    assert scheduled["params"]["visibility"] == "unlisted"
    assert [s["id"] for s in me.api.scheduled_statuses()] == [scheduled["id"]]
    assert me.api.scheduled_status(scheduled["id"])["id"] == scheduled["id"]
    assert not any("posted later" in t for t in my_texts(me)), "posted before its time"

    posted = wait_for(lambda: [s for s in me.api.account_statuses(me.id) if "posted later" in s["content"]],
                      timeout=15)
    assert len(posted) == 1 and posted[0]["visibility"] == "unlisted"
    assert me.api.scheduled_statuses() == []
    time.sleep(1.5)
    assert sum("posted later" in t for t in my_texts(me)) == 1


def test_scheduled_statuses_are_moved_and_cancelled(office):
    me = office.user("t_me")
    a = me.api.status_post("moved one", scheduled_at=in_seconds(3600))
    b = me.api.status_post("cancelled one", scheduled_at=in_seconds(3600))
    assert {s["id"] for s in me.api.scheduled_statuses()} == {a["id"], b["id"]}
    target = in_seconds(7200).replace(microsecond=0)
    moved = me.api.scheduled_status_update(a["id"], target)
    assert moved["scheduled_at"].replace(microsecond=0) == target
    me.api.scheduled_status_delete(b["id"])
    assert [s["id"] for s in me.api.scheduled_statuses()] == [a["id"]]
    # Another user's scheduled status does not exist for them.
    other = office.user("t_other")
    r = raw(office, "GET", f"/api/v1/scheduled_statuses/{a['id']}", token=other.token)
    assert r.status_code == 404 and "error" in r.json()
    r = raw(office, "DELETE", f"/api/v1/scheduled_statuses/{a['id']}", token=other.token)
    assert r.status_code == 404
    assert [s["id"] for s in me.api.scheduled_statuses()] == [a["id"]]


def test_bad_schedules_are_refused_and_nothing_is_kept(office):
    me = office.user("u_me")
    for when in ("2001-01-01T00:00:00Z", "soon"):
        r = raw(office, "POST", "/api/v1/statuses", token=me.token,
                json={"status": "never", "scheduled_at": when})
        assert r.status_code == 422 and "error" in r.json(), (when, r.text)
    with pytest.raises(MastodonAPIError) as e:
        me.api.status_post("", scheduled_at=in_seconds(3600))
    assert e.value.args[1] == 422
    with pytest.raises(MastodonAPIError) as e:
        me.api.status_post("reply to nothing", in_reply_to_id=99999999, scheduled_at=in_seconds(3600))
    assert e.value.args[1] == 404
    ok = me.api.status_post("kept", scheduled_at=in_seconds(3600))
    r = raw(office, "PUT", f"/api/v1/scheduled_statuses/{ok['id']}", token=me.token,
            json={"scheduled_at": "2001-01-01T00:00:00Z"})
    assert r.status_code == 422
    assert [s["id"] for s in me.api.scheduled_statuses()] == [ok["id"]]
    assert me.api.account_statuses(me.id) == []


def test_a_status_due_while_the_node_was_stopped_is_posted_when_it_starts():
    n = start_node(extra_env=LEAD)
    try:
        me = n.user("r_me")
        me.api.status_post("due during the downtime", scheduled_at=in_seconds(3))
        port = n.port
        assert n.stop() == 0
        time.sleep(4)
        n = Node(n.db, port=port, extra_env=LEAD)
        found = wait_for(
            lambda: [s for s in me.api.account_statuses(me.id) if "downtime" in s["content"]], timeout=15
        )
        assert len(found) == 1
        assert me.api.scheduled_statuses() == []
    finally:
        finish_node(n)
