"""Pinned statuses with Mastodon.py: pin one's own posts (not a boost, not a direct message,
at most five), see them on the profile with `pinned=true` and `pinned` on the status, unpin;
across two nodes the pin reaches the followers' node as an Add and leaves it as a Remove."""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError

from conftest import finish_node, raw, start_node, wait_for


@pytest.fixture(scope="module")
def office():
    n = start_node()
    try:
        yield n
    finally:
        finish_node(n)


def pinned_ids(viewer, account_id) -> list[str]:
    return [s["id"] for s in viewer.api.account_statuses(account_id, pinned=True)]


def refused(call) -> tuple[int, str]:
    with pytest.raises(MastodonAPIError) as e:
        call()
    return e.value.args[1], str(e.value.args[-1])


def test_pin_and_unpin_on_ones_profile(office):
    me = office.user("p_me")
    colleague = office.user("p_colleague")
    first = me.api.status_post("first to pin")
    second = me.api.status_post("second to pin", visibility="private")
    assert "pinned" in first and first["pinned"] is False

    assert me.api.status_pin(first["id"])["pinned"] is True
    assert me.api.status_pin(second["id"])["pinned"] is True
    assert me.api.status_pin(first["id"])["pinned"] is True  # twice is once
    assert pinned_ids(me, me.id) == [second["id"], first["id"]]
    assert me.api.status(first["id"])["pinned"] is True
    # A colleague sees the public pin, not the followers-only one, and no `pinned` flag.
    seen = colleague.api.account_statuses(me.id, pinned=True)
    assert [s["id"] for s in seen] == [first["id"]]
    r = raw(office, "GET", f"/api/v1/accounts/{me.id}/statuses", token=colleague.token,
            params={"pinned": "true"})
    assert [s["id"] for s in r.json()] == [str(first["id"])] and "pinned" not in r.json()[0]

    assert me.api.status_unpin(second["id"])["pinned"] is False
    assert pinned_ids(me, me.id) == [first["id"]]
    # A deleted status leaves the pins with it.
    me.api.status_delete(first["id"])
    assert pinned_ids(me, me.id) == []


def test_what_cannot_be_pinned_is_refused(office):
    me = office.user("q_me")
    other = office.user("q_other")
    theirs = other.api.status_post("not yours")
    code, why = refused(lambda: me.api.status_pin(theirs["id"]))
    assert code == 422 and "Someone else" in why
    dm = me.api.status_post(f"@{other.username} between us", visibility="direct")
    code, why = refused(lambda: me.api.status_pin(dm["id"]))
    assert code == 422 and "Direct" in why
    boost = me.api.status_reblog(theirs["id"])
    code, why = refused(lambda: me.api.status_pin(boost["id"]))
    assert code == 422 and "Boosts" in why
    mine = [me.api.status_post(f"pin {i}") for i in range(6)]
    for s in mine[:5]:
        me.api.status_pin(s["id"])
    code, why = refused(lambda: me.api.status_pin(mine[5]["id"]))
    assert code == 422 and "maximum" in why
    assert len(pinned_ids(me, me.id)) == 5 and mine[5]["id"] not in pinned_ids(me, me.id)
    r = raw(office, "POST", "/api/v1/statuses/99999999/pin", token=me.token)
    assert r.status_code == 404 and "error" in r.json()


def test_a_pin_reaches_the_followers_node(peers):
    a, b = peers
    ada = a.user("pin_ada")
    bob = b.user("pin_bob")
    found = bob.api.search_v2(f"pin_ada@{a.domain}", resolve=True, result_type="accounts")
    ada_on_b = found["accounts"][0]
    bob.api.account_follow(ada_on_b["id"])
    assert wait_for(lambda: bob.api.account_relationships([ada_on_b["id"]])[0]["following"], timeout=15)
    post = ada.api.status_post("pinned for the whole network")
    on_b = wait_for(lambda: [s for s in bob.api.timeline_home() if s["uri"] == post["uri"]], timeout=15)
    assert on_b, "the post did not reach B"

    ada.api.status_pin(post["id"])
    assert wait_for(
        lambda: [s["uri"] for s in bob.api.account_statuses(ada_on_b["id"], pinned=True)] == [post["uri"]],
        timeout=15,
    ), "the Add did not reach B"
    ada.api.status_unpin(post["id"])
    assert wait_for(
        lambda: bob.api.account_statuses(ada_on_b["id"], pinned=True) == [], timeout=15
    ), "the Remove did not reach B"
