"""Groups across two nodes, used the way members use them from a Mastodon app (Mastodon.py): join by
following the group account, post by mentioning it, read home and the group's profile, leave by
unfollowing. The group is created with fika's own API (`/api/v1/groups`), as apps know nothing of it.
"""

from __future__ import annotations

import pytest
from mastodon import MastodonAPIError

from conftest import raw, wait_for


@pytest.fixture(scope="module")
def world(peers):
    a, b = peers
    owner = a.user("g_owner")
    r = raw(a, "POST", "/api/v1/groups", token=owner.token, json={"name": "makers", "display_name": "Makers"})
    assert r.status_code == 200, r.text
    member = b.user("g_member")
    outsider = b.user("g_outsider")
    return a, b, owner, member, outsider, r.json()


def boosted_by(user, text: str, group: str):
    for s in user.api.timeline_home(limit=40):
        if s["reblog"] and text in s["reblog"]["content"] and s["account"]["acct"].startswith(group):
            return s
    return None


def test_join_post_read_and_leave(world):
    a, b, owner, member, outsider, group = world
    handle = f"makers@{a.domain}"
    [found] = member.api.search_v2(handle, resolve=True, result_type="accounts")["accounts"]
    assert found["group"] is True and found["acct"] == handle
    member.api.account_follow(found["id"])
    assert wait_for(lambda: member.api.account_relationships(found["id"])[0]["following"], timeout=20)

    st = member.api.status_post(f"@{handle} who has a soldering iron?")
    shown = wait_for(lambda: boosted_by(owner, "soldering iron", "makers"), timeout=20)
    assert shown, "the member's post did not reach the owner's home through the group"
    assert shown["reblog"]["account"]["acct"] == f"g_member@{b.domain}"
    assert wait_for(lambda: boosted_by(member, "soldering iron", "makers"), timeout=20)
    # The group's profile lists what it carried.
    posts = owner.api.account_statuses(group["id"])
    assert any(p["reblog"] and "soldering iron" in p["reblog"]["content"] for p in posts)

    owner.api.status_post("@makers the lab is open tonight")
    assert wait_for(lambda: boosted_by(member, "lab is open", "makers"), timeout=20)
    assert not boosted_by(outsider, "lab is open", "makers")

    member.api.account_unfollow(found["id"])
    assert wait_for(
        lambda: raw(a, "GET", f"/api/v1/groups/{group['id']}", token=owner.token).json()["members_count"] == 1,
        timeout=20,
    )
    owner.api.status_post("@makers after you left")
    assert wait_for(lambda: boosted_by(owner, "after you left", "makers"), timeout=20)
    assert not boosted_by(member, "after you left", "makers")
    assert st["id"]


def test_private_group_refuses_posts_from_non_members(world):
    a, b, owner, member, outsider, _ = world
    r = raw(a, "POST", "/api/v1/groups", token=owner.token, json={"name": "board", "private": True})
    assert r.status_code == 200, r.text
    handle = f"board@{a.domain}"
    [found] = outsider.api.search_v2(handle, resolve=True, result_type="accounts")["accounts"]
    assert found["locked"] is True and found["group"] is True
    with pytest.raises(MastodonAPIError) as e:
        outsider.api.status_post(f"@{handle} am I in?")
    assert e.value.args[1] == 403
    assert "not a member" in str(e.value.args)
    rel = outsider.api.account_follow(found["id"])
    assert rel["requested"] is True and rel["following"] is False
