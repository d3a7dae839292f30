"""Posting and interacting with statuses and accounts through Mastodon.py."""

from __future__ import annotations

import datetime

import pytest
from mastodon import MastodonNotFoundError

from conftest import statuses_count


@pytest.fixture(scope="module")
def alice(node):
    return node.user("alice")


@pytest.fixture(scope="module")
def bob(node):
    return node.user("bob")


def test_post(node, alice):
    before = statuses_count(alice)
    s = alice.api.status_post("Hello from Mastodon.py <b>not bold</b> & more")
    assert isinstance(s["id"], str) and s["id"].isdigit()
    assert s["account"]["id"] == alice.id
    assert s["visibility"] == "public"
    assert "Hello from Mastodon.py" in s["content"]
    assert "<b>" not in s["content"], "plain text must be escaped, not rendered as HTML"
    assert "&lt;b&gt;" in s["content"]
    assert isinstance(s["created_at"], datetime.datetime)
    assert s["uri"].startswith(node.base) and s["url"].startswith(node.base)
    assert s["spoiler_text"] == "" and s["sensitive"] is False
    assert s["in_reply_to_id"] is None
    assert s["favourites_count"] == 0 and s["reblogs_count"] == 0 and s["replies_count"] == 0
    assert s["media_attachments"] == [] and s["mentions"] == [] and s["tags"] == []
    assert statuses_count(alice) == before + 1
    again = alice.api.status(s["id"])
    assert again["id"] == s["id"] and again["content"] == s["content"]


def test_idempotency_key_returns_the_same_status(alice):
    before = statuses_count(alice)
    a = alice.api.status_post("idempotent post", idempotency_key="fika-test-key-1")
    b = alice.api.status_post("idempotent post", idempotency_key="fika-test-key-1")
    assert a["id"] == b["id"]
    assert statuses_count(alice) == before + 1


def test_reply_and_context(alice, bob):
    parent = alice.api.status_post("a question for the team")
    reply = bob.api.status_reply(parent, "an answer")
    assert reply["in_reply_to_id"] == parent["id"]
    assert reply["in_reply_to_account_id"] == alice.id
    # status_reply mentions the author it answers.
    assert [m["acct"] for m in reply["mentions"]] == ["alice"]
    assert alice.api.status(parent)["replies_count"] == 1
    ctx = alice.api.status_context(parent)
    assert [s["id"] for s in ctx["descendants"]] == [reply["id"]]
    assert ctx["ancestors"] == []
    ctx = alice.api.status_context(reply)
    assert [s["id"] for s in ctx["ancestors"]] == [parent["id"]]


def test_content_warning(alice):
    s = alice.api.status_post("the spoiler itself", spoiler_text="film plot", sensitive=True)
    assert s["spoiler_text"] == "film plot"
    assert s["sensitive"] is True
    # A content warning alone makes the status sensitive, as in Mastodon.
    s = alice.api.status_post("another spoiler", spoiler_text="cw only")
    assert s["spoiler_text"] == "cw only"
    assert s["sensitive"] is True


def test_visibility_variants(alice, bob):
    posted = {}
    for v in ("public", "unlisted", "private"):
        s = alice.api.status_post(f"visibility {v}", visibility=v)
        assert s["visibility"] == v
        posted[v] = s
    direct = alice.api.status_post("@bob visibility direct", visibility="direct")
    assert direct["visibility"] == "direct"
    assert [m["acct"] for m in direct["mentions"]] == ["bob"]

    public_ids = {s["id"] for s in alice.api.timeline_public(local=True, limit=40)}
    assert posted["public"]["id"] in public_ids
    assert posted["unlisted"]["id"] not in public_ids
    assert posted["private"]["id"] not in public_ids
    assert direct["id"] not in public_ids

    # bob does not follow alice: the followers-only post is hidden (404, as in Mastodon).
    assert bob.api.status(posted["unlisted"])["id"] == posted["unlisted"]["id"]
    with pytest.raises(MastodonNotFoundError):
        bob.api.status(posted["private"])
    # ... but the direct message mentions him.
    assert bob.api.status(direct)["id"] == direct["id"]
    # alice sees all of her own.
    for s in [*posted.values(), direct]:
        assert alice.api.status(s)["id"] == s["id"]
    # Someone neither following nor mentioned sees neither.
    with pytest.raises(MastodonNotFoundError):
        bob.api.status(alice.api.status_post("private again", visibility="private"))


def test_favourite_and_unfavourite(alice, bob):
    s = alice.api.status_post("like this")
    fav = bob.api.status_favourite(s)
    assert fav["id"] == s["id"]
    assert fav["favourited"] is True
    assert fav["favourites_count"] == 1
    assert [a["id"] for a in alice.api.status_favourited_by(s)] == [bob.id]
    assert alice.api.status(s)["favourited"] is False
    assert bob.api.status(s)["favourited"] is True
    assert s["id"] in [f["id"] for f in bob.api.favourites()]
    # Favouriting twice changes nothing.
    assert bob.api.status_favourite(s)["favourites_count"] == 1

    unfav = bob.api.status_unfavourite(s)
    assert unfav["favourited"] is False
    assert unfav["favourites_count"] == 0
    assert alice.api.status_favourited_by(s) == []
    assert s["id"] not in [f["id"] for f in bob.api.favourites()]


def test_reblog_and_unreblog(alice, bob):
    s = alice.api.status_post("boost this")
    boost = bob.api.status_reblog(s)
    assert boost["reblog"]["id"] == s["id"]
    assert boost["account"]["id"] == bob.id
    assert boost["id"] != s["id"]
    assert boost["reblog"]["reblogged"] is True
    assert boost["reblog"]["reblogs_count"] == 1
    assert [a["id"] for a in alice.api.status_reblogged_by(s)] == [bob.id]
    assert alice.api.status(s)["reblogs_count"] == 1
    assert bob.api.status(s)["reblogged"] is True
    # The boost shows up among bob's statuses.
    assert boost["id"] in [x["id"] for x in bob.api.account_statuses(bob.id)]

    un = bob.api.status_unreblog(s)
    assert un["id"] == s["id"]
    assert un["reblogged"] is False
    assert un["reblogs_count"] == 0
    assert alice.api.status_reblogged_by(s) == []
    assert boost["id"] not in [x["id"] for x in bob.api.account_statuses(bob.id)]


def test_bookmark_and_unbookmark(alice, bob):
    s = bob.api.status_post("keep this for later")
    b = alice.api.status_bookmark(s)
    assert b["id"] == s["id"] and b["bookmarked"] is True
    assert s["id"] in [x["id"] for x in alice.api.bookmarks()]
    # Bookmarks are private: bob's view of his own status is not bookmarked.
    assert bob.api.status(s)["bookmarked"] is False
    u = alice.api.status_unbookmark(s)
    assert u["bookmarked"] is False
    assert s["id"] not in [x["id"] for x in alice.api.bookmarks()]


def test_follow_and_unfollow(node, alice, bob):
    carol = node.user("carol")
    rel = alice.api.account_follow(carol.id)
    assert rel["id"] == carol.id
    assert rel["following"] is True and rel["requested"] is False
    [rel] = alice.api.account_relationships(carol.id)
    assert rel["following"] is True
    [back] = carol.api.account_relationships(alice.id)
    assert back["followed_by"] is True and back["following"] is False
    assert alice.id in [a["id"] for a in carol.api.account_followers(carol.id)]
    assert carol.id in [a["id"] for a in alice.api.account_following(alice.id)]
    assert carol.api.account(carol.id)["followers_count"] == 1

    rel = alice.api.account_unfollow(carol.id)
    assert rel["following"] is False
    [back] = carol.api.account_relationships(alice.id)
    assert back["followed_by"] is False
    assert carol.api.account(carol.id)["followers_count"] == 0


def test_follow_locked_account(node, alice):
    dana = node.user("dana")
    me = dana.api.account_update_credentials(locked=True)
    assert me["locked"] is True
    assert dana.api.account_verify_credentials()["locked"] is True

    rel = alice.api.account_follow(dana.id)
    assert rel["following"] is False
    assert rel["requested"] is True
    [rel] = alice.api.account_relationships(dana.id)
    assert rel["requested"] is True and rel["following"] is False
    assert [a["id"] for a in dana.api.follow_requests()] == [alice.id]

    rel = dana.api.follow_request_authorize(alice.id)
    assert rel["id"] == alice.id
    assert rel["followed_by"] is True
    [rel] = alice.api.account_relationships(dana.id)
    assert rel["following"] is True and rel["requested"] is False
    assert dana.api.follow_requests() == []


def test_edit_history_and_source(alice):
    s = alice.api.status_post("first version", spoiler_text="cw one")
    assert s["edited_at"] is None
    e = alice.api.status_update(s, "second version", spoiler_text="cw two")
    assert e["id"] == s["id"]
    assert e["edited_at"] is not None
    assert "second version" in e["content"]
    assert e["spoiler_text"] == "cw two"
    history = alice.api.status_history(s)
    assert len(history) == 2
    assert "first version" in history[0]["content"]
    assert "second version" in history[1]["content"]
    source = alice.api.status_source(s)
    assert source["id"] == s["id"]
    assert source["text"] == "second version"
    assert source["spoiler_text"] == "cw two"
    assert alice.api.status(s)["edited_at"] is not None


def test_delete(alice, bob):
    before = statuses_count(alice)
    s = alice.api.status_post("to be deleted")
    assert statuses_count(alice) == before + 1
    deleted = alice.api.status_delete(s)
    assert deleted["id"] == s["id"]
    # Mastodon answers with the source text, for "delete and redraft".
    assert deleted["text"] == "to be deleted"
    with pytest.raises(MastodonNotFoundError):
        alice.api.status(s)
    with pytest.raises(MastodonNotFoundError):
        bob.api.status(s)
    assert statuses_count(alice) == before
    # Deleting someone else's status is not possible.
    other = bob.api.status_post("bob's own")
    with pytest.raises(MastodonNotFoundError):
        alice.api.status_delete(other)
    assert bob.api.status(other)["id"] == other["id"]
