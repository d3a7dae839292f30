"""The notification policy and its requests, driven by Mastodon.py (v2 and v1 shapes): what a
user filters waits in a request per sender, out of the list, the unread count and the stream,
until it is accepted (it joins the list, and that sender is never filtered again) or
dismissed (it is gone)."""

import pytest
import requests
from mastodon import MastodonAPIError, MastodonNotFoundError


def mention_ids(user) -> list[str]:
    return [n["status"]["id"] for n in user.api.notifications(types=["mention"])]


def filtered_status_ids(user, sender) -> list[str]:
    """A request's notifications as apps read them: grouped, with `include_filtered`."""
    page = user.api.grouped_notifications(account_id=sender.id, include_filtered=True)
    return [g["status_id"] for g in page["notification_groups"]]


def test_the_default_policy_accepts_colleagues_and_api_version_2_is_advertised(node):
    alice, bob = node.user(), node.user()
    policy = alice.api.notifications_policy()
    assert policy["for_not_following"] == "accept"
    assert policy["for_private_mentions"] == "accept"
    assert policy["for_limited_accounts"] == "filter"
    assert policy["summary"]["pending_requests_count"] == 0
    s = bob.api.status_post(f"@{alice.username} welcome aboard")
    assert mention_ids(alice) == [s["id"]]
    instance = requests.get(node.url("/api/v2/instance"), timeout=10).json()
    assert instance["api_versions"]["mastodon"] == 2


def test_filtered_notifications_wait_in_a_request_until_accepted(node):
    alice, stranger, friend = node.user(), node.user(), node.user()
    alice.api.account_follow(friend.id)
    changed = alice.api.update_notifications_policy(for_not_following="filter")
    assert changed["for_not_following"] == "filter" and changed["for_new_accounts"] == "accept"
    assert alice.api.notifications_policy()["for_not_following"] == "filter"

    first = stranger.api.status_post(f"@{alice.username} do you have the Q3 deck?")
    second = stranger.api.status_post(f"@{alice.username} or the Q4 one")
    from_friend = friend.api.status_post(f"@{alice.username} lunch?")
    # Only the followed colleague's mention is in the list.
    assert mention_ids(alice) == [from_friend["id"]]
    summary = alice.api.notifications_policy()["summary"]
    assert summary == {"pending_requests_count": 1, "pending_notifications_count": 2}

    reqs = alice.api.notification_requests()
    assert len(reqs) == 1
    req = reqs[0]
    assert req["account"]["id"] == stranger.id
    assert str(req["notifications_count"]) == "2"
    assert req["last_status"]["id"] == second["id"]
    assert alice.api.notification_request(req["id"])["account"]["id"] == stranger.id
    # The request's notifications, as apps read them.
    assert sorted(filtered_status_ids(alice, stranger)) == sorted([first["id"], second["id"]])

    alice.api.accept_notification_request(req["id"])
    assert sorted(mention_ids(alice)) == sorted([from_friend["id"], first["id"], second["id"]])
    assert alice.api.notification_requests() == []
    assert alice.api.notifications_merged() is True
    # Accepted once, never filtered again.
    third = stranger.api.status_post(f"@{alice.username} thanks!")
    assert third["id"] in mention_ids(alice)
    with pytest.raises(MastodonNotFoundError):
        alice.api.notification_request(req["id"])


def test_dismissed_requests_take_their_notifications_and_drop_keeps_nothing(node):
    alice, spammer, other = node.user(), node.user(), node.user()
    alice.api.update_notifications_policy(for_not_following="filter")
    spammer.api.status_post(f"@{alice.username} buy my raffle tickets")
    other.api.status_post(f"@{alice.username} hello from other")
    reqs = {r["account"]["id"]: r for r in alice.api.notification_requests()}
    assert set(reqs) == {spammer.id, other.id}
    alice.api.dismiss_notification_request(reqs[spammer.id]["id"])
    assert [r["account"]["id"] for r in alice.api.notification_requests()] == [other.id]
    assert filtered_status_ids(alice, spammer) == []
    # In bulk, by id.
    alice.api.accept_multiple_notification_requests([reqs[other.id]["id"]])
    assert alice.api.notification_requests() == []
    assert len(alice.api.notifications(account_id=other.id)) == 1

    # Drop: nothing is kept, not even a request.
    alice.api.update_notifications_policy(for_not_following="accept", for_not_followers="drop")
    carol = node.user()
    carol.api.status_post(f"@{alice.username} you will never see this")
    assert filtered_status_ids(alice, carol) == []
    assert alice.api.notification_requests() == []
    # Someone who follows alice gets through.
    dave = node.user()
    dave.api.account_follow(alice.id)
    s = dave.api.status_post(f"@{alice.username} I follow you")
    assert s["id"] in mention_ids(alice)


def test_filtered_notifications_are_not_counted_as_unread(node):
    alice, stranger = node.user(), node.user()
    alice.api.update_notifications_policy(for_not_following="filter")
    stranger.api.account_follow(alice.id)  # a follow, filtered too
    stranger.api.status_post(f"@{alice.username} hi")
    r = requests.get(
        node.url("/api/v1/notifications/unread_count"),
        headers={"Authorization": f"Bearer {alice.token}"},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["count"] == 0, r.text
    assert alice.api.notifications_policy()["summary"]["pending_notifications_count"] == 2
    # Clearing the notifications takes the filtered ones, and their request with them.
    alice.api.notifications_clear()
    assert alice.api.notification_requests() == []
    assert alice.api.notifications_policy()["summary"] == {
        "pending_requests_count": 0,
        "pending_notifications_count": 0,
    }


def test_the_v1_policy_and_bad_answers(node):
    alice = node.user()
    headers = {"Authorization": f"Bearer {alice.token}"}
    r = requests.put(
        node.url("/api/v1/notifications/policy"),
        headers=headers,
        json={"filter_not_followers": True},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert r.json()["filter_not_followers"] is True and r.json()["filter_not_following"] is False
    assert alice.api.notifications_policy()["for_not_followers"] == "filter"

    with pytest.raises(MastodonAPIError) as e:
        alice.api.update_notifications_policy(for_new_accounts="sometimes")
    assert e.value.args[1] == 422
    # Nothing changed.
    assert alice.api.notifications_policy()["for_new_accounts"] == "accept"
    with pytest.raises(MastodonNotFoundError):
        alice.api.accept_notification_request("12345")
