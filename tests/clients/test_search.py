"""Search v2 through Mastodon.py: accounts, statuses, hashtags."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def world(node):
    alice = node.user("s_alice")
    banana = node.user("bananaman")
    post = alice.api.status_post("a searchable banana smoothie recipe #FruitSalad")
    other = banana.api.status_post("nothing to see here")
    return alice, banana, post, other


def test_accounts(world):
    alice, banana, post, other = world
    for q in ("bananaman", "@bananaman", "banana"):
        res = alice.api.search_v2(q, result_type="accounts")
        assert banana.id in [a["id"] for a in res["accounts"]], q
        assert alice.id not in [a["id"] for a in res["accounts"]], q
    res = alice.api.search_v2("bananaman")
    assert [a["acct"] for a in res["accounts"]] == ["bananaman"]
    assert set(res) >= {"accounts", "statuses", "hashtags"}


def test_statuses(world):
    alice, banana, post, other = world
    res = alice.api.search_v2("smoothie", result_type="statuses")
    assert [s["id"] for s in res["statuses"]] == [post["id"]]
    assert res["accounts"] == [] and res["hashtags"] == []
    assert alice.api.search_v2("xylophone", result_type="statuses")["statuses"] == []


def test_hashtags(world):
    alice, banana, post, other = world
    for q in ("fruitsalad", "#FruitSalad", "fruit"):
        res = alice.api.search_v2(q, result_type="hashtags")
        names = [t["name"].lower() for t in res["hashtags"]]
        assert names == ["fruitsalad"], (q, names)
        assert res["hashtags"][0]["url"].startswith("http")
