"""Blocks, mutes and domain blocks with Mastodon.py. Each effect is checked through a second
call: a blocked account's posts leave timelines and threads, its mentions stop notifying, it
can neither follow nor see the blocker; a muted one leaves timelines (and, if asked, the
notifications) for as long as the mute lasts. Across two nodes: a block of a remote account
reaches its node as a Block and stops its mentions."""

from __future__ import annotations

import time

import pytest
from mastodon import MastodonAPIError

from conftest import finish_node, home_once_it_has, raw, start_node, wait_for


@pytest.fixture(scope="module")
def office():
    n = start_node()
    try:
        yield n
    finally:
        finish_node(n)


def ids(statuses) -> list[str]:
    return [s["id"] for s in statuses]


def mention_ids(user) -> list[str]:
    return [n["status"]["id"] for n in user.api.notifications(types=["mention"])]


def test_a_block_hides_both_sides_and_ends_follows(office):
    me = office.user("b_me")
    troll = office.user("b_troll")
    me.api.account_follow(troll.id)
    troll.api.account_follow(me.id)
    mine = me.api.status_post("my thread")
    their_reply = troll.api.status_post("a reply from them", in_reply_to_id=mine["id"])
    theirs = troll.api.status_post("their post")
    home_once_it_has(me, theirs["id"])
    their_boost = troll.api.status_reblog(mine["id"])

    rel = me.api.account_block(troll.id)
    assert rel["blocking"] is True and rel["following"] is False and rel["followed_by"] is False
    assert me.api.account_block(troll.id)["blocking"] is True  # twice is once
    back = troll.api.account_relationships([me.id])[0]
    assert back["blocked_by"] is True and back["following"] is False
    assert [a["id"] for a in me.api.blocks()] == [troll.id]

    # Their posts, their boosts and their replies are gone from what the blocker reads.
    home = ids(me.api.timeline_home())
    assert theirs["id"] not in home and their_boost["id"] not in home
    assert theirs["id"] not in ids(me.api.timeline_public())
    assert their_reply["id"] not in ids(me.api.status_context(mine["id"])["descendants"])

    # The blocked side: no follow, no sight of the blocker, no notification reaching them.
    with pytest.raises(MastodonAPIError) as refused:
        troll.api.account_follow(me.id)
    assert refused.value.args[1] == 403
    assert troll.api.account_relationships([me.id])[0]["requested"] is False
    r = raw(office, "GET", f"/api/v1/statuses/{mine['id']}", token=troll.token)
    assert r.status_code == 404 and "error" in r.json()
    assert troll.api.account_statuses(me.id) == []
    assert mine["id"] not in ids(troll.api.timeline_public())
    mention = troll.api.status_post(f"@{me.username} hello?")
    time.sleep(0.5)
    assert mention["id"] not in mention_ids(me)

    # Unblocked: following works again, mentions notify.
    assert me.api.account_unblock(troll.id)["blocking"] is False
    assert me.api.blocks() == []
    assert troll.api.account_follow(me.id)["following"] is True
    again = troll.api.status_post(f"@{me.username} better now")
    assert wait_for(lambda: again["id"] in mention_ids(me)), "mention after unblock"
    assert troll.api.status(mine["id"])["id"] == mine["id"]


def test_a_mute_hides_posts_and_optionally_notifications_for_its_duration(office):
    me = office.user("m_me")
    loud = office.user("m_loud")
    me.api.account_follow(loud.id)
    before = loud.api.status_post(f"@{me.username} before the mute")
    assert wait_for(lambda: before["id"] in mention_ids(me))

    rel = me.api.account_mute(loud.id, notifications=False)
    assert rel["muting"] is True and rel["muting_notifications"] is False
    assert rel["following"] is True, "a mute is not an unfollow"
    post = loud.api.status_post("muted chatter")
    mention = loud.api.status_post(f"@{me.username} still hear me?")
    time.sleep(0.5)
    assert post["id"] not in ids(me.api.timeline_home())
    assert post["id"] not in ids(me.api.timeline_public())
    assert wait_for(lambda: mention["id"] in mention_ids(me)), "notifications were not muted"
    muted = me.api.mutes()
    assert [a["id"] for a in muted] == [loud.id] and muted[0]["mute_expires_at"] is None

    # Muting again with notifications: theirs disappear, old ones included.
    assert me.api.account_mute(loud.id, notifications=True)["muting_notifications"] is True
    later = loud.api.status_post(f"@{me.username} and now?")
    time.sleep(0.5)
    got = mention_ids(me)
    assert later["id"] not in got and mention["id"] not in got and before["id"] not in got

    # A mute for two seconds: then everything is back.
    me.api.account_mute(loud.id, duration=2)
    expires = me.api.mutes()[0]["mute_expires_at"]
    assert expires is not None
    time.sleep(2.5)
    assert me.api.mutes() == []
    assert me.api.account_relationships([loud.id])[0]["muting"] is False
    assert post["id"] in ids(me.api.timeline_home())
    # Made while only the posts were muted: shown again. Made while notifications were muted:
    # never made, as on Mastodon.
    got = mention_ids(me)
    assert mention["id"] in got and before["id"] in got and later["id"] not in got

    me.api.account_mute(loud.id)
    assert me.api.account_unmute(loud.id)["muting"] is False
    assert post["id"] in ids(me.api.timeline_home())


def test_bad_block_and_mute_requests_are_refused_and_change_nothing(office):
    me = office.user("x_me")
    other = office.user("x_other")
    for path in ("block", "mute"):
        r = raw(office, "POST", f"/api/v1/accounts/{me.id}/{path}", token=me.token)
        assert r.status_code == 422 and "yourself" in r.json()["error"], r.text
        r = raw(office, "POST", f"/api/v1/accounts/99999999/{path}", token=me.token)
        assert r.status_code == 404 and "error" in r.json()
    for duration in ("-1", "soon"):
        r = raw(office, "POST", f"/api/v1/accounts/{other.id}/mute", token=me.token,
                data={"duration": duration})
        assert r.status_code == 422 and "duration" in r.json()["error"], r.text
    for domain in ("", "not a domain", office.domain):
        r = raw(office, "POST", "/api/v1/domain_blocks", token=me.token, data={"domain": domain})
        assert r.status_code == 422 and "error" in r.json(), (domain, r.text)
    assert me.api.mutes() == [] and me.api.blocks() == [] and me.api.domain_blocks() == []
    rel = me.api.account_relationships([other.id])[0]
    assert not (rel["blocking"] or rel["muting"] or rel["domain_blocking"])
    r = raw(office, "GET", "/api/v1/blocks")
    assert r.status_code == 401


def test_domain_blocks_are_listed_and_removed(office):
    me = office.user("d_me")
    me.api.domain_block("Sales.Corp.Example")
    me.api.domain_block("eng.corp.example")
    me.api.domain_block("eng.corp.example")  # twice is once
    assert me.api.domain_blocks() == ["eng.corp.example", "sales.corp.example"]
    me.api.domain_unblock("sales.corp.example")
    assert me.api.domain_blocks() == ["eng.corp.example"]


@pytest.fixture(scope="module")
def pair(peers):
    a, b = peers
    ada = a.user("ada")
    bob = b.user("bob")
    found = ada.api.search_v2(f"bob@{b.domain}", resolve=True, result_type="accounts")
    assert len(found["accounts"]) == 1, found
    bob_on_a = found["accounts"][0]
    found = bob.api.search_v2(f"ada@{a.domain}", resolve=True, result_type="accounts")
    ada_on_b = found["accounts"][0]
    return a, b, ada, bob, bob_on_a, ada_on_b


def test_a_block_of_a_remote_account_reaches_its_node_and_stops_its_mentions(pair):
    a, b, ada, bob, bob_on_a, ada_on_b = pair
    bob.api.account_follow(ada_on_b["id"])
    assert wait_for(lambda: bob.api.account_relationships([ada_on_b["id"]])[0]["following"], timeout=15)
    first = bob.api.status_post(f"@ada@{a.domain} hi from B")
    assert wait_for(lambda: any(n["status"]["uri"] == first["uri"]
                                for n in ada.api.notifications(types=["mention"])), timeout=15)

    rel = ada.api.account_block(bob_on_a["id"])
    assert rel["blocking"] is True and rel["followed_by"] is False
    # B hears of it: bob is no longer following and sees ada's block.
    assert wait_for(
        lambda: bob.api.account_relationships([ada_on_b["id"]])[0]["blocked_by"], timeout=15
    ), "the Block did not reach B"
    assert bob.api.account_relationships([ada_on_b["id"]])[0]["following"] is False

    # One post mentioning ada and carol: once carol is told, ada would have been too.
    carol = a.user("carol")
    later = bob.api.status_post(f"@ada@{a.domain} @carol@{a.domain} are you there?")
    assert wait_for(lambda: any(n["status"]["uri"] == later["uri"]
                                for n in carol.api.notifications(types=["mention"])), timeout=15)
    told = [n["status"]["uri"] for n in ada.api.notifications(types=["mention"])]
    assert later["uri"] not in told and first["uri"] not in told, told

    ada.api.account_unblock(bob_on_a["id"])
    assert wait_for(
        lambda: not bob.api.account_relationships([ada_on_b["id"]])[0]["blocked_by"], timeout=15
    ), "the Undo Block did not reach B"


def test_a_domain_block_hides_that_nodes_accounts(pair):
    a, b, ada, bob, bob_on_a, ada_on_b = pair
    dora = a.user("dora")
    ada.api.domain_block(b.domain)
    assert ada.api.account_relationships([bob_on_a["id"]])[0]["domain_blocking"] is True
    post = bob.api.status_post(f"@ada@{a.domain} @dora@{a.domain} from a node ada blocks")
    assert wait_for(lambda: any(n["status"]["uri"] == post["uri"]
                                for n in dora.api.notifications(types=["mention"])), timeout=15)
    assert any(s["uri"] == post["uri"] for s in dora.api.timeline_public())
    assert all(s["uri"] != post["uri"] for s in ada.api.timeline_public())
    assert all(n["status"]["uri"] != post["uri"] for n in ada.api.notifications(types=["mention"]))
    ada.api.domain_unblock(b.domain)
    assert ada.api.account_relationships([bob_on_a["id"]])[0]["domain_blocking"] is False
    assert any(s["uri"] == post["uri"] for s in ada.api.timeline_public())
