"""Groups (FEP-1b12) between fika and Fedify peers: a Fedify actor joins a fika group and gets its
announces, its post to the group is announced to fika members, and a fika user joins a Fedify
`Group` actor (`crew`) and sees what it announces. In order; each test builds on the one before.
"""

from __future__ import annotations

import uuid

import pytest

from interop_harness import WAIT, pretty, wait_for


@pytest.fixture(scope="module")
def owner(net):
    return net.fika.user("gail")


@pytest.fixture(scope="module")
def member(net):
    return net.fika.user("milo")


@pytest.fixture(scope="module")
def group(owner):
    return owner.post("/api/v1/groups", json={"name": "guild", "display_name": "Guild"})


def group_actor(net) -> str:
    return f"{net.fika.base}/users/guild"


def received(peer, kind: str, pred=lambda a: True) -> list[dict]:
    return [a for a in peer.received() if a["type"] == kind and pred(a)]


def boosted(api, text: str, by: str):
    for s in api.get("/api/v1/timelines/home"):
        if s.get("reblog") and text in s["reblog"]["content"] and s["account"]["acct"].startswith(by):
            return s
    return None


def test_a_a_fedify_actor_joins_a_fika_group_and_receives_its_announces(net, owner, member, group):
    assert group["account"]["group"] is True
    r = net.alice.command("follow", target=group_actor(net))
    assert r.status_code == 200, f"alice's Follow of the group was not delivered: {r.status_code} {r.text}"
    follow_id = r.json()["id"]
    accepts = wait_for(lambda: received(net.alice, "Accept", lambda a: a["object"] == follow_id))
    assert accepts and accepts[0]["verified"] is True, pretty(net.alice.received())
    assert accepts[0]["actor"] == group_actor(net)

    member.post(f"/api/v1/accounts/{group['id']}/follow")
    text = f"guild news {uuid.uuid4().hex[:8]}"
    status = member.post("/api/v1/statuses", json={"status": f"@guild {text}"})

    announces = wait_for(lambda: received(net.alice, "Announce", lambda a: a["object"] == status["uri"]))
    assert announces, f"no Announce of {status['uri']} reached alice within {WAIT}s:\n{pretty(net.alice.received())}"
    assert announces[0]["verified"] is True, "Fedify did not verify the group's signature"
    assert announces[0]["actor"] == group_actor(net)
    assert len(announces) == 1


def test_b_a_fedify_post_to_the_group_is_announced_to_fika_members(net, owner, member, group):
    text = f"from the Fedify side {uuid.uuid4().hex[:8]}"
    r = net.alice.command("post", text=text, mention=group_actor(net))
    assert r.status_code == 200, f"alice's post was not delivered: {r.status_code} {r.text}"
    shown = wait_for(lambda: boosted(member, text, "guild"))
    assert shown, f"alice's post is not in milo's home boosted by the group:\n{pretty(member.get('/api/v1/timelines/home'))}"
    assert shown["reblog"]["account"]["acct"] == net.alice.acct
    assert shown["reblog"]["uri"] == r.json()["note"]
    # The group announces it to its Fedify member too.
    assert wait_for(lambda: received(net.alice, "Announce", lambda a: a["object"] == r.json()["note"]))


def test_c_a_fika_user_joins_a_fedify_group_and_sees_its_announces(net, member):
    crew = net.crew
    found = member.get("/api/v2/search", params={"type": "accounts", "resolve": "true", "q": crew.acct})
    [account] = [a for a in found["accounts"] if a["acct"] == crew.acct]
    assert account["group"] is True, pretty(account)
    member.post(f"/api/v1/accounts/{account['id']}/follow")

    def following():
        [r] = member.get("/api/v1/accounts/relationships", params={"id[]": account["id"]})
        return r if r["following"] else None

    assert wait_for(following), f"the Fedify group did not accept milo:\n{pretty(crew.received())}"
    text = f"worth a look {uuid.uuid4().hex[:8]}"
    note = net.alice.command("post", text=text).json()["note"]
    r = crew.command("announce", object=note)
    assert r.status_code == 200 and r.json()["followers"] == 1, f"{r.status_code} {r.text}"
    shown = wait_for(lambda: boosted(member, text, "crew"))
    assert shown, f"crew's announce is not in milo's home:\n{pretty(member.get('/api/v1/timelines/home'))}"
    assert shown["reblog"]["uri"] == note
