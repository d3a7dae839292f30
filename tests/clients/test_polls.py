"""Polls with Mastodon.py: post one, vote, see the counts change for the voter and for others,
`own_votes`, multiple choice, totals hidden until the end; what cannot be posted or voted is
refused with nothing written; a poll ends on time (votes refused, author and voters notified);
across two nodes a vote from B is counted on A and A's counts reach B."""

from __future__ import annotations

import time

import pytest
from mastodon import MastodonAPIError

from conftest import finish_node, raw, start_node, wait_for


@pytest.fixture(scope="module")
def office():
    # Polls may run one second here, so that one can end within a test.
    n = start_node(extra_env={
        "FIKA_LIMITS_POLL_MIN_EXPIRATION_SECONDS": "1",
        "FIKA_LIMITS_SCHEDULED_MIN_LEAD_SECONDS": "1",
    })
    try:
        yield n
    finally:
        finish_node(n)


def refused(call) -> tuple[int, str]:
    with pytest.raises(MastodonAPIError) as e:
        call()
    return e.value.args[1], str(e.value.args[-1])


def counts(poll) -> list:
    return [o["votes_count"] for o in poll["options"]]


def test_vote_and_see_the_counts_change(office):
    author = office.user("pl_author")
    voter = office.user("pl_voter")
    other = office.user("pl_other")
    posted = author.api.status_post(
        "Lunch on Friday?", poll=author.api.make_poll(["soup", "salad", "pasta"], expires_in=3600)
    )
    poll = posted["poll"]
    assert [o["title"] for o in poll["options"]] == ["soup", "salad", "pasta"]
    assert counts(poll) == [0, 0, 0] and poll["expired"] is False and poll["multiple"] is False
    assert poll["voted"] is True and poll["own_votes"] == []  # an author has "voted", as on Mastodon

    after = voter.api.poll_vote(poll["id"], [1])
    assert after["voted"] is True and after["own_votes"] == [1] and counts(after) == [0, 1, 0]
    # Seen by others through a second call: the status and the poll itself.
    seen = other.api.status(posted["id"])["poll"]
    assert counts(seen) == [0, 1, 0] and seen["voted"] is False and seen["own_votes"] == []
    assert seen["votes_count"] == 1 and seen["voters_count"] == 1
    assert counts(author.api.poll(poll["id"])) == [0, 1, 0]
    # In the timelines too, with the viewer's own votes.
    listed = [s for s in voter.api.account_statuses(author.id) if s["id"] == posted["id"]]
    assert listed[0]["poll"]["own_votes"] == [1]

    other.api.poll_vote(poll["id"], [2])
    assert counts(voter.api.poll(poll["id"])) == [0, 1, 1]

    code, why = refused(lambda: voter.api.poll_vote(poll["id"], [0]))
    assert code == 422 and "already voted" in why
    code, why = refused(lambda: author.api.poll_vote(poll["id"], [0, 1]))
    assert code == 422 and "only one" in why
    code, why = refused(lambda: author.api.poll_vote(poll["id"], [3]))
    assert code == 422 and "not one of the poll's options" in why
    after = author.api.poll(poll["id"])
    assert counts(after) == [0, 1, 1] and after["voters_count"] == 2


def test_multiple_choice_and_hidden_totals(office):
    author = office.user("pm_author")
    voter = office.user("pm_voter")
    other = office.user("pm_other")
    posted = author.api.status_post(
        "Which days at the office?",
        poll=author.api.make_poll(["mon", "tue", "wed"], expires_in=3600, multiple=True, hide_totals=True),
    )
    pid = posted["poll"]["id"]
    after = voter.api.poll_vote(pid, [0, 2])
    assert after["own_votes"] == [0, 2] and after["multiple"] is True
    # Totals are hidden from voters until the end; the author sees them.
    assert counts(after) == [None, None, None]
    assert counts(other.api.poll(pid)) == [None, None, None]
    mine = author.api.poll(pid)
    assert counts(mine) == [1, 0, 1] and mine["votes_count"] == 2 and mine["voters_count"] == 1


def test_bad_polls_and_votes_are_refused_and_nothing_written(office):
    author = office.user("pb_author")
    make = author.api.make_poll
    bad = [
        (make(["only one"], expires_in=600), "more than one"),
        (make(["a", "b", "c", "d", "e"], expires_in=600), "more than 4"),
        (make(["a", "a"], expires_in=600), "duplicate"),
        (make(["a", "x" * 51], expires_in=600), "50 characters"),
        (make(["a", "b"], expires_in=0), "too soon"),
        (make(["a", "b"], expires_in=40 * 24 * 3600), "too far"),
    ]
    for poll, message in bad:
        code, why = refused(lambda: author.api.status_post("a bad poll", poll=poll))
        assert code == 422 and message in why, (message, why)
    r = raw(office, "POST", "/api/v1/statuses", token=author.token,
            json={"status": "no seconds", "poll": {"options": ["a", "b"], "expires_in": "soon"}})
    assert r.status_code == 422 and "error" in r.json()
    r = raw(office, "POST", "/api/v1/statuses", token=author.token,
            data={"status": "form poll", "poll[options][]": ["a", "b"], "poll[expires_in]": "600"})
    assert r.status_code == 200 and [o["title"] for o in r.json()["poll"]["options"]] == ["a", "b"]
    # Only the form-encoded poll was written.
    assert [s["content"] for s in author.api.account_statuses(author.id)] == ["<p>form poll</p>"]
    r = raw(office, "POST", "/api/v1/polls/99999999/votes", token=author.token, json={"choices": [0]})
    assert r.status_code == 404 and "error" in r.json()
    plain = author.api.status_post("no poll here")
    r = raw(office, "GET", f"/api/v1/polls/{plain['id']}", token=author.token)
    assert r.status_code == 404


def test_a_poll_ends_on_time(office):
    author = office.user("pe_author")
    voter = office.user("pe_voter")
    late = office.user("pe_late")
    posted = author.api.status_post("Quick one", poll=author.api.make_poll(["yes", "no"], expires_in=2))
    pid = posted["poll"]["id"]
    voter.api.poll_vote(pid, [0])
    assert wait_for(lambda: author.api.poll(pid)["expired"], timeout=10)
    code, why = refused(lambda: late.api.poll_vote(pid, [1]))
    assert code == 422 and "ended" in why
    assert counts(author.api.poll(pid)) == [1, 0]

    def told(user):
        return [n for n in user.api.notifications() if n["type"] == "poll"]

    for user in (author, voter):
        found = wait_for(lambda: told(user), timeout=10)
        assert found and found[0]["status"]["id"] == posted["id"], user.username
        assert found[0]["account"]["id"] == author.id
    assert told(late) == []
    time.sleep(1.5)  # the job runs every second: it told each once
    assert len(told(author)) == 1 and len(told(voter)) == 1


def test_a_scheduled_status_keeps_its_poll(office):
    import datetime

    author = office.user("ps_author")
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=3)
    scheduled = author.api.status_post(
        "Later: coffee or tea?", scheduled_at=at,
        poll=author.api.make_poll(["coffee", "tea"], expires_in=600, multiple=True),
    )
    assert scheduled["params"]["poll"]["options"] == ["coffee", "tea"]
    assert scheduled["params"]["poll"]["multiple"] is True
    posted = wait_for(lambda: author.api.account_statuses(author.id), timeout=15)
    assert posted, "the scheduled status was not posted"
    poll = posted[0]["poll"]
    assert [o["title"] for o in poll["options"]] == ["coffee", "tea"] and poll["multiple"] is True
    # Checked when scheduled, as a post would be.
    code, why = refused(lambda: author.api.status_post(
        "bad later", scheduled_at=at + datetime.timedelta(seconds=60),
        poll=author.api.make_poll(["one"], expires_in=600)))
    assert code == 422 and "more than one" in why


def test_a_vote_from_another_node_is_counted(peers):
    a, b = peers
    ada = a.user("pf_ada")
    carol = a.user("pf_carol")
    bob = b.user("pf_bob")
    found = bob.api.search_v2(f"pf_ada@{a.domain}", resolve=True, result_type="accounts")
    ada_on_b = found["accounts"][0]
    bob.api.account_follow(ada_on_b["id"])
    assert wait_for(lambda: bob.api.account_relationships([ada_on_b["id"]])[0]["following"], timeout=15)
    posted = ada.api.status_post(
        "Offsite: where?", poll=ada.api.make_poll(["lake", "mountains"], expires_in=3600)
    )

    def on_b():
        return [s for s in bob.api.timeline_home() if s["uri"] == posted["uri"]]

    assert wait_for(on_b, timeout=15), "the poll did not reach B"
    remote = on_b()[0]["poll"]
    assert [o["title"] for o in remote["options"]] == ["lake", "mountains"] and counts(remote) == [0, 0]

    voted = bob.api.poll_vote(remote["id"], [1])
    assert voted["own_votes"] == [1] and counts(voted) == [0, 1]
    assert wait_for(lambda: counts(ada.api.poll(posted["poll"]["id"])) == [0, 1], timeout=15), \
        "B's vote was not counted on A"
    carol.api.poll_vote(posted["poll"]["id"], [0])
    # A tells B its counts: carol's vote shows there, and bob's vote still counts once.
    assert wait_for(lambda: counts(bob.api.poll(remote["id"])) == [1, 1], timeout=15), \
        "A's counts did not reach B"
    polled = bob.api.poll(remote["id"])
    assert polled["own_votes"] == [1] and polled["voters_count"] == 2
    code, why = refused(lambda: bob.api.poll_vote(remote["id"], [0]))
    assert code == 422 and "already voted" in why
    time.sleep(2)
    assert counts(ada.api.poll(posted["poll"]["id"])) == [1, 1]
