"""Lists, driven with Mastodon.py: CRUD with Mastodon's entity and errors, members (only
accounts one follows, all or nothing), the list timeline with its replies policy, exclusive
lists leaving home, unfollowing removing members, and the `list` stream."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from mastodon import MastodonAPIError, MastodonNotFoundError, StreamListener

from conftest import home_once_it_has, raw, wait_for


@pytest.fixture(scope="module")
def people(node):
    """ann follows ben, cat and dan; eve follows no one and is followed by no one."""
    ann, ben, cat, dan, eve = (node.user(n) for n in ("l_ann", "l_ben", "l_cat", "l_dan", "l_eve"))
    for other in (ben, cat, dan):
        assert ann.api.account_follow(other.id)["following"] is True
    return ann, ben, cat, dan, eve


def ids(statuses) -> list[str]:
    return [s["id"] for s in statuses]


def member_ids(user, list_id, **kw) -> list[str]:
    return [a["id"] for a in user.api.list_accounts(list_id, **kw)]


def list_once_it_has(user, list_id, *status_ids, timeout: float = 10.0) -> list:
    """The list timeline once the fan-out has put `status_ids` in the owner's home feed."""
    page = wait_for(
        lambda: (lambda p: p if all(i in ids(p) for i in status_ids) else None)(
            user.api.timeline_list(list_id, limit=40)
        ),
        timeout=timeout,
    )
    assert page, f"list {list_id} of {user.username} lacks {status_ids} after {timeout} s"
    return page


def error_of(node, user, method, path, **kw) -> tuple[int, dict]:
    r = raw(node, method, path, token=user.token, **kw)
    return r.status_code, r.json()


def test_crud_with_mastodon_entities_and_errors(node, people):
    ann, ben, cat, dan, eve = people
    created = ann.api.list_create("Platform team")
    assert set(created.keys()) >= {"id", "title", "replies_policy", "exclusive"}
    assert created["title"] == "Platform team"
    assert created["replies_policy"] == "list" and created["exclusive"] is False
    assert isinstance(raw(node, "GET", f"/api/v1/lists/{created['id']}", token=ann.token).json()["id"], str)

    other = ann.api.list_create("Leads", replies_policy="followed", exclusive=True)
    assert other["replies_policy"] == "followed" and other["exclusive"] is True
    assert ids(ann.api.lists()) == [created["id"], other["id"]]
    assert ann.api.list(other["id"])["title"] == "Leads"

    updated = ann.api.list_update(other["id"], "Team leads", replies_policy="none", exclusive=False)
    assert updated == {"id": other["id"], "title": "Team leads", "replies_policy": "none", "exclusive": False}
    assert ann.api.list(other["id"]) == updated

    # A blank title and an unknown policy are refused, and nothing changes.
    status, body = error_of(node, ann, "POST", "/api/v1/lists", data={"title": "  "})
    assert (status, body) == (422, {"error": "Validation failed: Title can't be blank"})
    status, body = error_of(node, ann, "POST", "/api/v1/lists", json={"title": "x", "replies_policy": "all"})
    assert status == 422 and body["error"].startswith("Validation failed: Replies policy")
    status, body = error_of(node, ann, "PUT", f"/api/v1/lists/{other['id']}", data={"title": ""})
    assert (status, body) == (422, {"error": "Validation failed: Title can't be blank"})
    with pytest.raises(MastodonAPIError):
        ann.api.list_update(other["id"], "New name", replies_policy="sometimes")
    assert ann.api.list(other["id"]) == updated
    assert len(ann.api.lists()) == 2

    # Someone else's list, or none, is not found, for every verb; it stays as it was.
    for method, path in [
        ("GET", f"/api/v1/lists/{created['id']}"),
        ("PUT", f"/api/v1/lists/{created['id']}"),
        ("DELETE", f"/api/v1/lists/{created['id']}"),
        ("GET", f"/api/v1/lists/{created['id']}/accounts"),
        ("POST", f"/api/v1/lists/{created['id']}/accounts"),
        ("GET", f"/api/v1/timelines/list/{created['id']}"),
        ("GET", "/api/v1/lists/12345"),
        ("GET", "/api/v1/lists/not-an-id"),
    ]:
        status, body = error_of(node, eve, method, path, data={"title": "mine now"})
        assert (status, body) == (404, {"error": "Record not found"}), (method, path)
    assert eve.api.lists() == []
    assert ann.api.list(created["id"])["title"] == "Platform team"

    ann.api.list_delete(other["id"])
    with pytest.raises(MastodonNotFoundError):
        ann.api.list(other["id"])
    assert ids(ann.api.lists()) == [created["id"]]
    ann.api.list_delete(created["id"])
    assert ann.api.lists() == []


def test_members_all_or_nothing(node, people):
    ann, ben, cat, dan, eve = people
    team = ann.api.list_create("Members")
    path = f"/api/v1/lists/{team['id']}/accounts"
    ann.api.list_accounts_add(team["id"], [ben.id, cat.id])
    assert sorted(member_ids(ann, team["id"])) == sorted([ben.id, cat.id])
    assert [l["id"] for l in ann.api.account_lists(ben.id)] == [team["id"]]
    assert ann.api.account_lists(dan.id) == []

    # eve is not followed: refused, and dan (who is) is not added either.
    status, body = error_of(node, ann, "POST", path, data={"account_ids[]": [dan.id, eve.id]})
    assert (status, body) == (422, {"error": "Validation failed: Account follow relationship missing"})
    # Already a member: refused, dan again not added.
    status, body = error_of(node, ann, "POST", path, json={"account_ids": [dan.id, ben.id]})
    assert (status, body) == (422, {"error": "Validation failed: Account has already been taken"})
    # An unknown account: not found, nothing added.
    with pytest.raises(MastodonNotFoundError):
        ann.api.list_accounts_add(team["id"], [dan.id, "999999999"])
    assert sorted(member_ids(ann, team["id"])) == sorted([ben.id, cat.id])

    # Ids in the query string work too (as Mastodon reads them).
    r = raw(node, "POST", f"{path}?account_ids[]={dan.id}", token=ann.token)
    assert r.status_code == 200 and r.json() == {}
    assert sorted(member_ids(ann, team["id"])) == sorted([ben.id, cat.id, dan.id])

    # Pages of members with Link headers; limit=0 is all of them, without a Link.
    first = raw(node, "GET", f"{path}?limit=2", token=ann.token)
    assert first.status_code == 200 and len(first.json()) == 2
    nxt = first.links["next"]["url"]
    second = requests.get(nxt, headers={"Authorization": f"Bearer {ann.token}"}, timeout=30)
    everyone = [a["id"] for a in first.json()] + [a["id"] for a in second.json()]
    assert sorted(everyone) == sorted([ben.id, cat.id, dan.id])
    page = ann.api.list_accounts(team["id"], limit=1)
    assert len(page) == 1 and len(ann.api.fetch_next(page)) == 1
    unlimited = raw(node, "GET", f"{path}?limit=0", token=ann.token)
    assert len(unlimited.json()) == 3 and "Link" not in unlimited.headers

    ann.api.list_accounts_delete(team["id"], [cat.id])
    assert sorted(member_ids(ann, team["id"])) == sorted([ben.id, dan.id])
    assert ann.api.account_lists(cat.id) == []
    with pytest.raises(MastodonNotFoundError):
        ann.api.account_lists("999999999")

    # Unfollowing takes the account out of the follower's lists.
    ann.api.account_unfollow(dan.id)
    assert sorted(member_ids(ann, team["id"])) == [ben.id]
    assert ann.api.account_lists(dan.id) == []
    ann.api.account_follow(dan.id)
    ann.api.list_delete(team["id"])


def test_list_timeline_and_replies_policy(node, people):
    ann, ben, cat, dan, eve = people
    # ben is a member; cat is followed but not a member; eve is followed by no one.
    lst = ann.api.list_create("Timeline", replies_policy="list")
    ann.api.list_accounts_add(lst["id"], [ben.id, dan.id])

    post = ben.api.status_post("from a member")
    outside = cat.api.status_post("from a non-member")
    own_thread = ben.api.status_post("my own thread", in_reply_to_id=post["id"])
    cat_root = cat.api.status_post("cat says something")
    to_followed = ben.api.status_post(f"@{cat.username} reply to someone ann follows", in_reply_to_id=cat_root["id"])
    dan_root = dan.api.status_post("dan is a member too")
    to_member = ben.api.status_post(f"@{dan.username} reply to a member", in_reply_to_id=dan_root["id"])
    ann_root = ann.api.status_post("ann asks")
    to_owner = ben.api.status_post(f"@{ann.username} reply to the owner", in_reply_to_id=ann_root["id"])
    boost = ben.api.status_reblog(cat_root)
    wanted = [post, own_thread, to_member, to_owner, dan_root]
    home_once_it_has(ann, post["id"], to_followed["id"], to_member["id"], to_owner["id"], boost["id"])

    timeline = list_once_it_has(ann, lst["id"], *(s["id"] for s in wanted), boost["id"])
    got = ids(timeline)
    assert outside["id"] not in got and cat_root["id"] not in got and ann_root["id"] not in got
    assert to_followed["id"] not in got, "policy list: a reply to a non-member stays out"
    assert got == sorted(got, key=int, reverse=True), "newest first"

    ann.api.list_update(lst["id"], "Timeline", replies_policy="followed")
    got = ids(ann.api.timeline_list(lst["id"], limit=40))
    assert to_followed["id"] in got and to_member["id"] in got and to_owner["id"] in got

    ann.api.list_update(lst["id"], "Timeline", replies_policy="none")
    got = ids(ann.api.timeline_list(lst["id"], limit=40))
    assert to_followed["id"] not in got and to_member["id"] not in got
    assert own_thread["id"] in got and to_owner["id"] in got and post["id"] in got

    # Pagination like home: limit, Link next/prev, max_id, min_id, since_id.
    ann.api.list_update(lst["id"], "Timeline", replies_policy="list")
    full = ids(ann.api.timeline_list(lst["id"], limit=40))
    first = raw(node, "GET", f"/api/v1/timelines/list/{lst['id']}?limit=2", token=ann.token)
    assert ids(first.json()) == full[:2]
    assert f"/api/v1/timelines/list/{lst['id']}" in first.links["next"]["url"]
    page = ann.api.timeline_list(lst["id"], limit=2)
    assert ids(ann.api.fetch_next(page)) == full[2:4]
    assert ids(ann.api.timeline_list(lst["id"], max_id=full[1], limit=40)) == full[2:]
    assert ids(ann.api.timeline_list(lst["id"], since_id=full[2], limit=40)) == full[:2]
    assert ids(ann.api.timeline_list(lst["id"], min_id=full[3], limit=2)) == full[1:3]

    # A member removed: their statuses leave the list timeline.
    ann.api.list_accounts_delete(lst["id"], [dan.id])
    assert dan_root["id"] not in ids(ann.api.timeline_list(lst["id"], limit=40))
    ann.api.list_delete(lst["id"])


def test_exclusive_list_leaves_home(node, people):
    ann, ben, cat, dan, eve = people
    lst = ann.api.list_create("Quiet", exclusive=True)
    ann.api.list_accounts_add(lst["id"], [cat.id])
    hidden = cat.api.status_post("only in the exclusive list")
    shown = ben.api.status_post("still in home")
    home = home_once_it_has(ann, shown["id"])
    list_once_it_has(ann, lst["id"], hidden["id"])
    home = ids(ann.api.timeline_home(limit=40))
    assert hidden["id"] not in home
    assert not [s for s in ann.api.timeline_home(limit=40) if s["account"]["id"] == cat.id]

    # Not exclusive any more: cat is back in home.
    ann.api.list_update(lst["id"], "Quiet", exclusive=False)
    assert hidden["id"] in ids(ann.api.timeline_home(limit=40))
    ann.api.list_delete(lst["id"])


class Recorder(StreamListener):
    def __init__(self) -> None:
        super().__init__()
        self.updates = []
        self.deletes = []
        self.errors = []
        self.lock = threading.Lock()

    def on_update(self, status):
        with self.lock:
            self.updates.append(status)

    def on_delete(self, status_id):
        with self.lock:
            self.deletes.append(str(status_id))

    def on_abort(self, err):
        with self.lock:
            self.errors.append(err)


def open_stream(opener):
    listener = Recorder()
    handle = opener(listener)
    connected = wait_for(lambda: handle.connection is not None or listener.errors, timeout=10)
    assert connected and not listener.errors, f"could not open the stream: {listener.errors}"
    time.sleep(0.3)  # let the node register the subscription behind the response headers
    return listener, handle


def test_list_stream(node, people):
    ann, ben, cat, dan, eve = people
    lst = ann.api.list_create("Streamed")
    quiet = ann.api.list_create("Exclusive", exclusive=True)
    ann.api.list_accounts_add(lst["id"], [ben.id])
    ann.api.list_accounts_add(quiet["id"], [dan.id])
    on_list, list_handle = open_stream(lambda l: ann.api.stream_list(lst["id"], l, run_async=True))
    on_user, user_handle = open_stream(lambda l: ann.api.stream_user(l, run_async=True))
    try:
        member = ben.api.status_post("streamed to the list")
        other = cat.api.status_post("not a member")
        exclusive = dan.api.status_post("exclusive member")
        assert wait_for(lambda: member["id"] in ids(on_list.updates), timeout=10), ids(on_list.updates)
        assert wait_for(lambda: other["id"] in ids(on_user.updates), timeout=10), ids(on_user.updates)
        time.sleep(0.5)
        assert other["id"] not in ids(on_list.updates)
        assert exclusive["id"] not in ids(on_user.updates), "an exclusive list's member left home's stream"
        assert exclusive["id"] in ids(ann.api.timeline_list(quiet["id"]))
        ben.api.status_delete(member)
        assert wait_for(lambda: member["id"] in on_list.deletes, timeout=10), on_list.deletes
        assert not on_list.errors, on_list.errors
    finally:
        # Each close waits for the stream's next heartbeat: close both at once.
        closers = [threading.Thread(target=h.close) for h in (list_handle, user_handle)]
        for c in closers:
            c.start()
        for c in closers:
            c.join()

    # Another's list may not be streamed: 401 with Mastodon's message, both spellings.
    for path in (f"/api/v1/streaming/list?list={lst['id']}", f"/api/v1/streaming?stream=list&list={lst['id']}"):
        r = raw(node, "GET", path, token=eve.token, stream=True)
        try:
            assert r.status_code == 401, (path, r.status_code)
            assert r.json() == {"error": "Not authorized to stream this list"}
        finally:
            r.close()
    # The owner may, by the query spelling too (an SSE stream opens).
    r = raw(node, "GET", f"/api/v1/streaming?stream=list&list={lst['id']}", token=ann.token, stream=True)
    try:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    finally:
        r.close()
    ann.api.list_delete(lst["id"])
    ann.api.list_delete(quiet["id"])


def test_scopes(node, people):
    ann = people[0]
    reader = node.login(ann, scopes=["read"])
    assert reader.lists() == []
    r = raw(node, "POST", "/api/v1/lists", token=reader.access_token, data={"title": "no"})
    assert r.status_code == 403, r.text
    assert ann.api.lists() == []


def test_groups_and_suspension_clear_or_hide_members(node, people):
    ann, ben, cat, dan, eve = people
    r = raw(node, "POST", "/api/v1/groups", token=ben.token, json={"name": "l_makers"})
    assert r.status_code == 200, r.text
    group = r.json()
    lst = ann.api.list_create("Groups")
    ann.api.account_follow(group["id"])
    assert wait_for(lambda: ann.api.account_relationships(group["id"])[0]["following"])
    ann.api.list_accounts_add(lst["id"], [group["id"], cat.id])

    # Removed from the group by a moderator: no longer following it, so out of the list.
    r = raw(node, "POST", f"/api/v1/groups/{group['id']}/members/{ann.id}/remove", token=ben.token)
    assert r.status_code == 200, r.text
    assert member_ids(ann, lst["id"]) == [cat.id]

    # Joined again and listed again, then the group is deleted: out of the list.
    ann.api.account_follow(group["id"])
    assert wait_for(lambda: ann.api.account_relationships(group["id"])[0]["following"])
    ann.api.list_accounts_add(lst["id"], [group["id"]])
    assert sorted(member_ids(ann, lst["id"])) == sorted([group["id"], cat.id])
    r = raw(node, "DELETE", f"/api/v1/groups/{group['id']}", token=ben.token)
    assert r.status_code == 200, r.text
    assert member_ids(ann, lst["id"]) == [cat.id]

    # A suspended account keeps its follows (suspension is undone), so its membership is kept
    # but not shown while it lasts.
    out = node.cli("admin", "suspend", cat.username)
    assert out.returncode == 0, out.stderr
    assert member_ids(ann, lst["id"]) == []
    out = node.cli("admin", "unsuspend", cat.username)
    assert out.returncode == 0, out.stderr
    assert member_ids(ann, lst["id"]) == [cat.id]
    ann.api.list_delete(lst["id"])
