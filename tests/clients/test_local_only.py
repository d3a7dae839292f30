"""Department-only statuses driven with Mastodon.py, on two nodes that federate: kept on their
own node (timelines, hashtags, search there), absent from the peer, replies and boosts too."""

from __future__ import annotations

import time

import pytest

from conftest import HTTP_TIMEOUT, raw, statuses_count, wait_for


@pytest.fixture(scope="module")
def a(peers):
    return peers[0]


@pytest.fixture(scope="module")
def b(peers):
    return peers[1]


@pytest.fixture(scope="module")
def ada(a):
    return a.user("ada")


@pytest.fixture(scope="module")
def ann(a):
    return a.user("ann")


@pytest.fixture(scope="module")
def bob(b, a, ada, ann):
    """bob on B, following ada and ann on A, so what of theirs federates reaches him."""
    bob = b.user("bob")
    for name in ("ada", "ann"):
        found = bob.api.search_v2(f"{name}@{a.domain}", resolve=True, result_type="accounts")
        assert len(found["accounts"]) == 1, found
        target = found["accounts"][0]
        bob.api.account_follow(target["id"])
        assert wait_for(
            lambda: bob.api.account_relationships(target["id"])[0]["following"], timeout=15
        ), f"bob's follow of {name} was not accepted"
    return bob


def post(user, node, body: dict) -> dict:
    """Posts with the raw API, for what Mastodon.py has no parameter for (`local_only`)."""
    r = raw(node, "POST", "/api/v1/statuses", user.token, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def contents(statuses) -> list[str]:
    return [(s["reblog"] or s)["content"] for s in statuses]


def has(statuses, needle: str) -> bool:
    return any(needle in c for c in contents(statuses))


def in_home(user, needle: str, timeout: float = 15.0) -> bool:
    return bool(wait_for(lambda: has(user.api.timeline_home(limit=40), needle), timeout=timeout))


def test_instance_says_which_default_is_in_force(ada):
    v2 = ada.api.instance_v2()
    assert v2["configuration"]["statuses"]["default_local_only"] is False
    v1 = ada.api.instance_v1()
    assert v1["configuration"]["statuses"]["default_local_only"] is False


def test_a_department_only_post_stays_on_its_node(a, b, ada, ann, bob):
    # The control: a normal post reaches bob on B.
    normal = ada.api.status_post("federated news #townhall")
    assert normal["local_only"] is False
    assert in_home(bob, "federated news"), "the normal post did not reach B"

    flagged = post(ada, a, {"status": "department lunch #townhall", "local_only": True})
    assert flagged["visibility"] == "public" and flagged["local_only"] is True
    # Mastodon.py refuses "local" itself (it knows Mastodon's four), as Akkoma apps send it.
    with pytest.raises(ValueError):
        ada.api.status_post("never sent", visibility="local")
    local = post(ada, a, {"status": "local visibility #townhall", "visibility": "local"})
    assert local["visibility"] == "public" and local["local_only"] is True

    # On A: local timeline, hashtag, search; a status of its own.
    assert has(ann.api.timeline_local(), "department lunch")
    assert has(ann.api.timeline_hashtag("townhall"), "department lunch")
    assert has(ann.api.timeline_hashtag("townhall"), "local visibility")
    assert has(ann.api.search_v2("department lunch", result_type="statuses")["statuses"], "department lunch")
    assert ann.api.status(flagged["id"])["local_only"] is True

    # A reply and a boost on A are department-only too. status_reply copies the parent's
    # visibility, "public": the node keeps the reply on A all the same.
    reply = ann.api.status_reply(ann.api.status(flagged["id"]), "count me in")
    assert reply["visibility"] == "public"
    assert reply["local_only"] is True and reply["in_reply_to_id"] == flagged["id"]
    boost = ann.api.status_reblog(flagged["id"])
    assert boost["local_only"] is True and boost["reblog"]["id"] == flagged["id"]
    ann.api.status_favourite(flagged["id"])
    assert wait_for(lambda: ada.api.status(flagged["id"])["reblogs_count"] == 1)

    # An edit keeps it; asking to make it federate is refused and changes nothing.
    edited = ada.api.status_update(flagged["id"], "department lunch, Friday #townhall")
    assert edited["local_only"] is True
    r = raw(a, "PUT", f"/api/v1/statuses/{flagged['id']}", ada.token,
            json={"status": "department lunch, leaked", "local_only": False})
    assert r.status_code == 422 and "error" in r.json(), r.text
    assert "Friday" in ada.api.status(flagged["id"])["content"]

    # Closing markers from both authors reach B: anything above would have arrived by now.
    ada.api.status_post("closing marker from ada")
    ann.api.status_post("closing marker from ann")
    assert in_home(bob, "closing marker from ada") and in_home(bob, "closing marker from ann")
    time.sleep(0.5)

    secrets = ["department lunch", "local visibility", "count me in"]
    for page in (
        bob.api.timeline_home(limit=40),
        bob.api.timeline_public(),
        bob.api.timeline_public(remote=True),
        bob.api.timeline_hashtag("townhall"),
        [n["status"] for n in bob.api.notifications() if n.get("status")],
    ):
        for text in secrets:
            assert not has(page, text), f"{text!r} reached B"
    assert has(bob.api.timeline_hashtag("townhall"), "federated news")
    assert bob.api.search_v2("department lunch", result_type="statuses")["statuses"] == []
    for st in (flagged, local, reply):
        found = bob.api.search_v2(st["uri"], resolve=True, result_type="statuses")
        assert found["statuses"] == [], f"{st['uri']} resolved on B"
    found = bob.api.search_v2(normal["uri"], resolve=True, result_type="statuses")
    assert len(found["statuses"]) == 1, "the normal post resolves by its URL"


def test_bad_input_is_refused_and_writes_nothing(a, ada):
    before = statuses_count(ada)
    for body in (
        {"status": "bad visibility", "visibility": "everyone"},
        {"status": "bad flag", "local_only": "maybe"},
        {"status": "bad number", "local_only": 2},
        {"status": "contradiction", "visibility": "local", "local_only": False},
    ):
        r = raw(a, "POST", "/api/v1/statuses", ada.token, json=body)
        assert r.status_code == 422, (body, r.text)
        assert isinstance(r.json().get("error"), str), r.text
    r = raw(a, "POST", "/api/v1/statuses", ada.token,
            data={"status": "bad form flag", "local_only": "yes"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 422, r.text
    assert statuses_count(ada) == before, "nothing was written"
