"""Notifications through Mastodon.py: every kind a staff member meets, filters, dismiss, clear.

The tests run in file order on one node: the last ones dismiss and clear."""

from __future__ import annotations

import types

import pytest
from mastodon import MastodonNotFoundError

from conftest import wait_for


@pytest.fixture(scope="module")
def world(node):
    alice = node.user("n_alice")
    bob = node.user("n_bob")
    lena = node.user("n_lena")
    assert lena.api.account_update_credentials(locked=True)["locked"] is True

    post = alice.api.status_post("alice's announcement")
    assert bob.api.account_follow(alice.id)["following"] is True
    mention = bob.api.status_post("@n_alice have a look")
    assert [m["acct"] for m in mention["mentions"]] == ["n_alice"]
    bob.api.status_favourite(post)
    bob.api.status_reblog(post)
    assert bob.api.account_follow(lena.id)["requested"] is True
    return types.SimpleNamespace(alice=alice, bob=bob, lena=lena, post=post, mention=mention)


def by_type(notifications):
    out = {}
    for n in notifications:
        out.setdefault(n["type"], []).append(n)
    return out


def test_each_kind_arrives(world):
    alice, bob = world.alice, world.bob
    # Allow for a node that fans out in the background.
    def four_or_more():
        got = alice.api.notifications()
        return got if len(got) >= 4 else None

    notes = wait_for(four_or_more) or alice.api.notifications()
    kinds = by_type(notes)
    assert set(kinds) == {"follow", "mention", "favourite", "reblog"}, set(kinds)
    for kind, items in kinds.items():
        assert len(items) == 1, (kind, items)
        n = items[0]
        assert isinstance(n["id"], str)
        assert n["account"]["id"] == bob.id
        assert n["created_at"] is not None
    assert kinds["mention"][0]["status"]["id"] == world.mention["id"]
    assert kinds["favourite"][0]["status"]["id"] == world.post["id"]
    assert kinds["reblog"][0]["status"]["id"] == world.post["id"]
    assert kinds["follow"][0].get("status") is None
    # Newest first.
    assert [n["type"] for n in notes][0] == "reblog"


def test_follow_request_notification(world):
    notes = world.lena.api.notifications(types=["follow_request"])
    assert [n["type"] for n in notes] == ["follow_request"]
    assert notes[0]["account"]["id"] == world.bob.id


def test_filter_by_types(world):
    only = world.alice.api.notifications(types=["mention"])
    assert [n["type"] for n in only] == ["mention"]
    two = world.alice.api.notifications(types=["favourite", "reblog"])
    assert sorted(n["type"] for n in two) == ["favourite", "reblog"]


def test_exclude_types(world):
    rest = world.alice.api.notifications(exclude_types=["mention", "follow"])
    assert sorted(n["type"] for n in rest) == ["favourite", "reblog"]


def test_get_one(world):
    [fav] = world.alice.api.notifications(types=["favourite"])
    one = world.alice.api.notifications(id=fav["id"])
    assert one["id"] == fav["id"]
    assert one["type"] == "favourite"
    assert one["status"]["id"] == world.post["id"]
    # Someone else's notification is not found.
    with pytest.raises(MastodonNotFoundError):
        world.bob.api.notifications(id=fav["id"])


def test_dismiss(world):
    [fav] = world.alice.api.notifications(types=["favourite"])
    world.alice.api.notifications_dismiss(fav["id"])
    with pytest.raises(MastodonNotFoundError):
        world.alice.api.notifications(id=fav["id"])
    left = [n["type"] for n in world.alice.api.notifications()]
    assert "favourite" not in left
    assert sorted(left) == ["follow", "mention", "reblog"]


def test_clear(world):
    world.alice.api.notifications_clear()
    assert world.alice.api.notifications() == []
    # Clearing one's own leaves other people's alone.
    assert len(world.lena.api.notifications()) == 1


def test_notification_pagination(node):
    """25 notifications read 10 at a time through the Link header, each exactly once."""
    owner = node.user("n_owner")
    fan = node.user("n_fan")
    posts = [owner.api.status_post(f"favourite me {i}") for i in range(25)]
    for p in posts:
        fan.api.status_favourite(p)
    pages = [owner.api.notifications(limit=10)]
    while True:
        nxt = owner.api.fetch_next(pages[-1])
        if not nxt:
            break
        pages.append(nxt)
        assert len(pages) < 10, "pagination does not end"
    assert [len(p) for p in pages] == [10, 10, 5]
    seen = [n["status"]["id"] for p in pages for n in p]
    assert seen == [p["id"] for p in reversed(posts)]
    ids = [n["id"] for p in pages for n in p]
    assert len(set(ids)) == 25
    assert [n["id"] for n in owner.api.fetch_previous(pages[1])] == [n["id"] for n in pages[0]]


def test_status_notifications_for_follows_that_ask(node):
    author = node.user("n_author")
    keen = node.user("n_keen")
    casual = node.user("n_casual")
    keen.api.account_follow(author.id, notify=True)
    casual.api.account_follow(author.id)
    assert keen.api.account_relationships([author.id])[0]["notifying"] is True
    public = author.api.status_post("news from the team")
    private = author.api.status_post("for followers", visibility="private")
    dm = author.api.status_post(f"@{keen.username} just you", visibility="direct")

    def told(user):
        return [n for n in user.api.notifications() if n["type"] == "status"]

    assert wait_for(lambda: len(told(keen)) == 2)
    assert {n["status"]["id"] for n in told(keen)} == {public["id"], private["id"]}
    assert all(n["account"]["id"] == author.id for n in told(keen))
    # The direct post is a mention, not a status notification; the casual follower hears nothing.
    assert [n["status"]["id"] for n in keen.api.notifications() if n["type"] == "mention"] == [dm["id"]]
    assert told(casual) == []
    keen.api.account_follow(author.id, notify=False)
    author.api.status_post("quieter now")
    assert len(told(keen)) == 2
