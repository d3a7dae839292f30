"""fika federating with an independent ActivityPub implementation: a Fedify peer (fedify/peer.mjs).

One fika node and two Fedify actors on loopback: `alice`, on fika's allowlist (and fika on hers),
and `mallory`, whom fika does not list. The tests run in order and build on each other: alice
follows bob (a), bob posts to her (b), bob follows alice (c), alice posts to him (d); then mallory
is turned away (e). Fedify signs RFC 9421 first and falls back to draft-cavage when fika answers
401, and it verifies fika's signatures itself before its inbox listeners see anything.
"""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from interop_harness import WAIT, pretty, wait_for


@pytest.fixture(scope="module")
def bob(net):
    return net.fika.user("bob")


def bob_actor(net) -> str:
    return f"{net.fika.base}/users/bob"


def follow_notifications(bob) -> list[dict]:
    return bob.get("/api/v1/notifications", params={"types[]": "follow"})


def received(peer, kind: str, pred=lambda a: True) -> list[dict]:
    return [a for a in peer.received() if a["type"] == kind and pred(a)]


def test_0_the_peer_flags_an_unsigned_delivery(net, bob):
    """The `verified` flag the later checks rely on is real: an unsigned POST is answered 401."""
    forged = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{bob_actor(net)}#forged-{uuid.uuid4().hex[:8]}",
        "type": "Create",
        "actor": bob_actor(net),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": f"{bob_actor(net)}/forged", "type": "Note", "attributedTo": bob_actor(net), "content": "forged"},
    }
    r = requests.post(
        net.alice.base + "/inbox", json=forged, headers={"Content-Type": "application/activity+json"}, timeout=30
    )
    assert r.status_code == 401, f"{r.status_code} {r.text[:300]}"
    [entry] = received(net.alice, "Create", lambda a: a["id"] == forged["id"])
    assert entry["verified"] is False and entry["reason"] == "noSignature", pretty(entry)


def test_a_fedify_actor_follows_a_fika_user(net, bob):
    alice = net.alice
    r = alice.command("follow", target=bob_actor(net))
    assert r.status_code == 200, f"alice's Follow was not delivered: {r.status_code} {r.text}"
    follow_id = r.json()["id"]

    accepts = wait_for(lambda: received(alice, "Accept", lambda a: a["object"] == follow_id))
    assert accepts, f"no Accept of {follow_id} reached alice within {WAIT}s; she got:\n{pretty(alice.received())}"
    assert accepts[0]["verified"] is True
    assert accepts[0]["actor"] == bob_actor(net)

    me = wait_for(lambda: (lambda a: a if a["followers_count"] == 1 else None)(bob.get("/api/v1/accounts/verify_credentials")))
    assert me, f"bob's followers_count: {bob.get('/api/v1/accounts/verify_credentials')['followers_count']}"
    followers = bob.get(f"/api/v1/accounts/{me['id']}/followers")
    assert [f["acct"] for f in followers] == [alice.acct]

    notes = wait_for(lambda: follow_notifications(bob))
    assert [n["account"]["acct"] for n in notes] == [alice.acct], pretty(notes)
    log = net.fika.log()
    assert re.search(rf"received.*kind=Follow.*actor={re.escape(alice.actor)}", log), "no 'received' log line"
    # Fedify knocked with RFC 9421 first; fika's 401 is what made it fall back to draft-cavage.
    assert "refused an unverifiable request" in log


def test_b_a_fika_post_reaches_the_fedify_follower_signed(net, bob):
    text = f"hello from fika {uuid.uuid4().hex[:8]}"
    status = bob.post("/api/v1/statuses", json={"status": text})

    creates = wait_for(lambda: received(net.alice, "Create", lambda a: text in (a["content"] or "")))
    assert creates, f"no Create with {text!r} reached alice within {WAIT}s; she got:\n{pretty(net.alice.received())}"
    create = creates[0]
    assert create["verified"] is True, "Fedify did not verify fika's signature"
    assert create["actor"] == bob_actor(net)
    assert create["object"] == status["uri"]
    assert "https://www.w3.org/ns/activitystreams#Public" in create["to"] + create["cc"]


def test_c_a_fika_user_follows_the_fedify_actor(net, bob):
    alice = net.alice
    found = bob.get("/api/v2/search", params={"type": "accounts", "resolve": "true", "q": alice.acct})
    accounts = [a for a in found["accounts"] if a["acct"] == alice.acct]
    assert accounts, f"search did not resolve {alice.acct}: {pretty(found)}"
    alice_id = accounts[0]["id"]

    rel = bob.post(f"/api/v1/accounts/{alice_id}/follow")
    assert rel["following"] or rel["requested"], pretty(rel)

    def following():
        [r] = bob.get("/api/v1/accounts/relationships", params={"id[]": alice_id})
        return r if r["following"] else None

    assert wait_for(following), (
        f"bob's follow of alice never became `following` within {WAIT}s: "
        f"{pretty(bob.get('/api/v1/accounts/relationships', params={'id[]': alice_id}))}\n"
        f"alice got:\n{pretty(alice.received())}"
    )
    follows = received(alice, "Follow", lambda a: a["actor"] == bob_actor(net))
    assert follows and follows[0]["verified"] is True
    assert follows[0]["object"] == alice.actor
    assert alice.followers() == [bob_actor(net)]
    assert re.search(rf"received.*kind=Accept.*actor={re.escape(alice.actor)}", net.fika.log())


def test_d_a_fedify_post_lands_in_the_fika_home_timeline(net, bob):
    text = f"hello from Fedify {uuid.uuid4().hex[:8]}"
    r = net.alice.command("post", text=text)
    assert r.status_code == 200, f"alice's Create was not delivered: {r.status_code} {r.text}"
    assert r.json()["followers"] == 1
    note_id = r.json()["note"]

    def landed():
        return [s for s in bob.get("/api/v1/timelines/home") if text in s["content"]]

    statuses = wait_for(landed)
    assert statuses, f"alice's note is not in bob's home timeline after {WAIT}s:\n{pretty(bob.get('/api/v1/timelines/home'))}"
    status = statuses[0]
    assert status["account"]["acct"] == net.alice.acct
    assert status["uri"] == note_id
    assert status["visibility"] == "public"


def test_e_a_peer_not_on_the_allowlist_is_refused(net, bob):
    mallory = net.mallory
    refusals = lambda: len(  # noqa: E731
        re.findall(
            rf"refused a request from a peer the policy does not allow.*peer={re.escape(mallory.domain)}\n", net.fika.log()
        )
    )

    # Mallory's signed GET of bob's actor is refused: she cannot even find bob's inbox.
    r = mallory.command("follow", target=bob_actor(net))
    assert r.status_code == 502, f"mallory looked bob up and followed him ({r.status_code} {r.text})"
    assert r.json()["error"] == "target not found", r.json()
    after_lookup = refusals()
    assert after_lookup >= 1, f"no refusal of {mallory.domain} in fika's log"

    # A Follow POSTed straight to bob's inbox is refused too: 403 to the cavage signature fika can
    # check (the RFC 9421 knock gets 401; Fedify reports whichever came last).
    r = mallory.command("follow", target=bob_actor(net), inbox=bob_actor(net) + "/inbox")
    assert r.status_code == 502, f"mallory's Follow was delivered ({r.status_code} {r.text}); fika should refuse it"
    assert "Failed to send activity" in r.json()["error"], r.json()["error"]
    assert refusals() > after_lookup, f"fika did not log a policy refusal of mallory's POST:\n{net.fika.log()[-3000:]}"

    assert not re.search(rf"received.*actor={re.escape(mallory.actor)}", net.fika.log())
    assert [n["account"]["acct"] for n in follow_notifications(bob)] == [net.alice.acct]
    assert bob.get("/api/v1/accounts/verify_credentials")["followers_count"] == 1
