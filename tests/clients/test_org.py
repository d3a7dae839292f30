"""The organisation's public conversation driven with Mastodon.py, on two nodes that are each
other's `org` peers: a public post by someone nobody follows is in the other node's federated
timeline, hashtag timeline and search; edits and deletes follow; other visibilities do not."""

from __future__ import annotations

import pytest

from conftest import wait_for


@pytest.fixture(scope="module")
def a(peers):
    return peers[0]


@pytest.fixture(scope="module")
def b(peers):
    return peers[1]


def contents(statuses) -> list[str]:
    return [(s["reblog"] or s)["content"] for s in statuses]


def federated_has(user, needle: str) -> bool:
    return any(needle in c for c in contents(user.api.timeline_public(remote=True, limit=40)))


def test_public_posts_reach_the_org_peer_without_follows(a, b):
    ora = a.user("ora")
    bea = b.user("bea")
    st = ora.api.status_post("#orgwide the canteen menu is out", visibility="public")
    ora.api.status_post("an unlisted note", visibility="unlisted")
    ora.api.status_post("a note for followers", visibility="private")
    marker = ora.api.status_post("a later marker", visibility="public")
    assert wait_for(lambda: federated_has(bea, "a later marker"), timeout=20), "nothing reached B"
    assert federated_has(bea, "canteen menu is out")
    assert any("canteen menu" in c for c in contents(bea.api.timeline_hashtag("orgwide")))
    found = bea.api.search_v2("canteen menu", result_type="statuses")
    assert any("canteen menu" in c for c in contents(found["statuses"])), found
    for text in ("an unlisted note", "a note for followers"):
        assert not federated_has(bea, text)
        assert not bea.api.search_v2(text, result_type="statuses")["statuses"]
    # Nobody on B follows ora: it is not in anyone's home there.
    assert not any("canteen" in c for c in contents(bea.api.timeline_home()))

    ora.api.status_update(st["id"], "#orgwide the canteen menu is out, now with soup")
    assert wait_for(lambda: federated_has(bea, "now with soup"), timeout=20), "the edit did not reach B"
    ora.api.status_delete(marker["id"])
    assert wait_for(lambda: not federated_has(bea, "a later marker"), timeout=20), "the delete did not reach B"
