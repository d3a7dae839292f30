"""Endorsements (featured accounts) and follow suggestions with Mastodon.py: endorse only whom
you follow, see it in the relationship and the list, lose it on unfollow; suggestions are
colleagues followed by the people you follow, then the most followed, never someone you
follow, asked for or dismissed."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError

from conftest import finish_node, raw, start_node


@pytest.fixture(scope="module")
def office():
    n = start_node()
    try:
        yield n
    finally:
        finish_node(n)


def test_endorse_only_whom_you_follow(office):
    me = office.user("e_me")
    friend = office.user("e_friend")
    stranger = office.user("e_stranger")

    with pytest.raises(MastodonAPIError) as refused:
        me.api.account_pin(stranger.id)
    assert refused.value.args[1] == 422
    assert "following" in str(refused.value.args[-1]).lower()
    assert me.api.endorsements() == []

    me.api.account_follow(friend.id)
    rel = me.api.account_pin(friend.id)
    assert rel["endorsed"] is True and rel["following"] is True
    assert me.api.account_pin(friend.id)["endorsed"] is True  # twice is once
    assert [a["id"] for a in me.api.endorsements()] == [friend.id]
    assert me.api.account_relationships([friend.id])[0]["endorsed"] is True

    assert me.api.account_unpin(friend.id)["endorsed"] is False
    assert me.api.endorsements() == []

    # An unfollow takes the endorsement with it.
    me.api.account_pin(friend.id)
    me.api.account_unfollow(friend.id)
    assert me.api.endorsements() == []
    assert me.api.account_relationships([friend.id])[0]["endorsed"] is False

    r = raw(office, "POST", "/api/v1/accounts/999999/pin", token=me.token)
    assert r.status_code == 404 and "error" in r.json()


def test_suggestions_are_colleagues_your_colleagues_follow(office):
    ana = office.user("s_ana")
    ben = office.user("s_ben")
    cleo = office.user("s_cleo")
    dev = office.user("s_dev")
    eve = office.user("s_eve")
    # ana follows ben and cleo; both follow dev, ben also follows eve.
    ana.api.account_follow(ben.id)
    ana.api.account_follow(cleo.id)
    ben.api.account_follow(dev.id)
    cleo.api.account_follow(dev.id)
    ben.api.account_follow(eve.id)

    found = ana.api.suggestions_v2()
    ids = [s["account"]["id"] for s in found]
    assert ids[:2] == [dev.id, eve.id], [(s["account"]["acct"], s["sources"]) for s in found]
    assert found[0]["sources"] == ["friends_of_friends"]
    assert ben.id not in ids and cleo.id not in ids and ana.id not in ids
    assert all(s["account"]["acct"] != "admin" or s["sources"] == ["most_followed"] for s in found)

    # Dismissed: gone for good; followed: gone too.
    ana.api.suggestion_delete(dev.id)
    ana.api.account_follow(eve.id)
    ids = [s["account"]["id"] for s in ana.api.suggestions_v2()]
    assert dev.id not in ids and eve.id not in ids
    assert [a["id"] for a in ana.api.suggestions_v1()] == ids

    r = raw(office, "DELETE", "/api/v1/suggestions/999999", token=ana.token)
    assert r.status_code == 404
