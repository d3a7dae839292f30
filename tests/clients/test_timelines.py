"""Timelines and Link-header pagination through Mastodon.py."""

from __future__ import annotations

import re

import pytest

from conftest import home_once_it_has, raw


@pytest.fixture(scope="module")
def people(node):
    alice = node.user("tl_alice")
    bob = node.user("tl_bob")
    stranger = node.user("tl_stranger")
    assert alice.api.account_follow(bob.id)["following"] is True
    return alice, bob, stranger


def ids(page):
    return [s["id"] for s in page]


def test_home_timeline(people):
    alice, bob, stranger = people
    from_bob = bob.api.status_post("bob for his followers", visibility="private")
    from_alice = alice.api.status_post("alice's own")
    from_stranger = stranger.api.status_post("not followed")
    home = ids(home_once_it_has(alice, from_bob["id"], from_alice["id"]))
    assert from_bob["id"] in home
    assert from_alice["id"] in home
    assert from_stranger["id"] not in home
    assert home.index(from_alice["id"]) < home.index(from_bob["id"]), "newest first"
    # A boost by someone alice follows lands in her home timeline as a reblog.
    boost = bob.api.status_reblog(from_stranger)
    home = home_once_it_has(alice, boost["id"])
    entry = next((s for s in home if s["id"] == boost["id"]), None)
    assert entry is not None
    assert entry["reblog"]["id"] == from_stranger["id"]


def test_deleted_status_leaves_timelines(people):
    alice, bob, stranger = people
    s = bob.api.status_post("soon gone")
    assert s["id"] in ids(home_once_it_has(alice, s["id"]))
    assert s["id"] in ids(stranger.api.timeline_public(local=True, limit=40))
    boost = stranger.api.status_reblog(s)
    bob.api.status_delete(s)
    assert s["id"] not in ids(alice.api.timeline_home(limit=40))
    assert s["id"] not in ids(stranger.api.timeline_public(local=True, limit=40))
    assert boost["id"] not in ids(stranger.api.account_statuses(stranger.id, limit=40))


def test_public_local_timeline(people):
    alice, bob, stranger = people
    public = stranger.api.status_post("public post by the stranger")
    unlisted = stranger.api.status_post("unlisted post", visibility="unlisted")
    private = bob.api.status_post("private post", visibility="private")
    for page in (alice.api.timeline_public(local=True, limit=40), alice.api.timeline_local(limit=40)):
        got = ids(page)
        assert public["id"] in got
        assert unlisted["id"] not in got
        assert private["id"] not in got
    got = ids(alice.api.timeline_public(limit=40))
    assert public["id"] in got


def test_hashtag_timeline(people):
    alice, bob, stranger = people
    tagged = bob.api.status_post("release notes #FikaRelease today")
    bob.api.status_post("untagged neighbour")
    assert [t["name"].lower() for t in tagged["tags"]] == ["fikarelease"]
    assert 'rel="tag"' in tagged["content"] or "hashtag" in tagged["content"]
    for name in ("fikarelease", "FikaRelease"):
        got = ids(stranger.api.timeline_hashtag(name, limit=40))
        assert got == [tagged["id"]], f"#{name}: {got}"


def test_account_statuses(people):
    alice, bob, stranger = people
    mine = [stranger.api.status_post(f"stranger note {i}") for i in range(3)]
    got = ids(alice.api.account_statuses(stranger.id, limit=40))
    assert all(s["id"] in got for s in mine)
    listed = alice.api.account_statuses(stranger.id, limit=40)
    assert {s["account"]["id"] for s in listed if s["reblog"] is None} == {stranger.id}
    # limit is honoured.
    assert len(alice.api.account_statuses(stranger.id, limit=2)) == 2


@pytest.fixture(scope="module")
def poster(node):
    """A user with 45 statuses of their own, and nothing else in their home timeline."""
    p = node.user("tl_pager")
    posted = [p.api.status_post(f"page test {i}")["id"] for i in range(45)]
    return p, posted


@pytest.mark.parametrize("timeline", ["home", "account"])
def test_link_pagination(poster, timeline):
    p, posted = poster
    newest_first = list(reversed(posted))

    def first_page():
        if timeline == "home":
            return p.api.timeline_home(limit=20)
        return p.api.account_statuses(p.id, limit=20)

    pages = [first_page()]
    while True:
        nxt = p.api.fetch_next(pages[-1])
        if not nxt:
            break
        pages.append(nxt)
        assert len(pages) < 10, "pagination does not end"
    sizes = [len(page) for page in pages]
    assert sizes == [20, 20, 5], sizes
    seen = [i for page in pages for i in ids(page)]
    assert len(seen) == len(set(seen)), "a status was returned twice"
    assert seen == newest_first

    # Going back from the last page gives the page before it, newest first.
    prev = p.api.fetch_previous(pages[2])
    assert ids(prev) == ids(pages[1])
    prev = p.api.fetch_previous(pages[1])
    assert ids(prev) == ids(pages[0])


def test_link_header_format(node, poster):
    """toot only follows a Link header that starts with `<url>; rel="next"`."""
    p, posted = poster
    r = raw(node, "GET", f"/api/v1/accounts/{p.id}/statuses?limit=20", token=p.token)
    assert r.status_code == 200
    link = r.headers.get("link", "")
    m = re.match(r'<([^>]+)>; rel="next"', link)
    assert m, f"Link header: {link!r}"
    assert m.group(1).startswith(node.base + "/api/v1/accounts/")
    assert "max_id=" in m.group(1)
    assert re.search(r'<[^>]+min_id=[^>]+>; rel="prev"', link), link
