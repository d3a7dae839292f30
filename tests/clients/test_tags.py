"""Followed hashtags, the Tag entity and familiar followers, driven with Mastodon.py: a followed
tag brings public statuses into home; what apps show on every profile and home load answers."""

from __future__ import annotations

import pytest
from mastodon import MastodonNotFoundError

from conftest import home_once_it_has, wait_for


@pytest.fixture(scope="module")
def people(node):
    return node.user("t_ann"), node.user("t_ben"), node.user("t_cat")


def test_follow_a_tag_and_its_statuses_enter_home(people):
    ann, ben, cat = people
    tag = ann.api.tag_follow("Platform")
    assert tag["name"] == "Platform" and tag["following"] is True
    assert [t["name"] for t in ann.api.followed_tags()] == ["Platform"]

    public = ben.api.status_post("shipping the #platform release", visibility="public")
    unlisted = ben.api.status_post("a quiet #platform note", visibility="unlisted")
    home = home_once_it_has(ann, public["id"])
    assert unlisted["id"] not in [s["id"] for s in home], "only public statuses come in through a tag"

    seen = ann.api.tag("platform")
    assert seen["following"] is True
    today = seen["history"][0]
    assert int(today["uses"]) >= 2 and int(today["accounts"]) == 1, seen["history"]
    assert len(seen["history"]) == 7

    ann.api.tag_unfollow("platform")
    assert ann.api.followed_tags() == []
    assert ann.api.tag("platform")["following"] is False
    later = ben.api.status_post("more #platform work", visibility="public")
    marker = ann.api.status_post("my own marker")
    home = home_once_it_has(ann, marker["id"])
    assert later["id"] not in [s["id"] for s in home]

    with pytest.raises(MastodonNotFoundError):
        ann.api.tag("not a tag!")


def test_familiar_followers(people):
    ann, ben, cat = people
    ann.api.account_follow(cat.id)
    cat.api.account_follow(ben.id)
    assert wait_for(lambda: cat.api.account_relationships(ben.id)[0]["following"])
    [familiar] = ann.api.account_familiar_followers(ben.id)
    assert familiar["id"] == ben.id
    assert [a["acct"] for a in familiar["accounts"]] == [cat.username]
    [none] = ben.api.account_familiar_followers(ann.id)
    assert none["accounts"] == []
