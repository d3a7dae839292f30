"""Conversations with Mastodon.py: direct statuses gather into one conversation per thread for
each participant, with the others as its accounts, unread until read; a reply in the thread
moves it up; one taken off the list comes back with the next message; public posts and
other people's conversations never show; the `direct` stream sends the same entity."""

from __future__ import annotations

from conftest import raw, wait_for


def ids(user):
    return [c["id"] for c in user.api.conversations()]


def test_direct_threads_become_conversations(node):
    ada = node.user("cv_ada")
    bo = node.user("cv_bo")
    cy = node.user("cv_cy")
    outsider = node.user("cv_out")
    first = ada.api.status_post(f"@{bo.username} @{cy.username} lunch?", visibility="direct")
    ada.api.status_post("a public post is no conversation")

    mine = ada.api.conversations()
    assert len(mine) == 1 and mine[0]["unread"] is False
    assert mine[0]["last_status"]["id"] == first["id"]
    assert sorted(a["username"] for a in mine[0]["accounts"]) == ["cv_bo", "cv_cy"]
    theirs = bo.api.conversations()
    assert [c["id"] for c in theirs] == [mine[0]["id"]] and theirs[0]["unread"] is True
    assert sorted(a["username"] for a in theirs[0]["accounts"]) == ["cv_ada", "cv_cy"]
    assert outsider.api.conversations() == []

    # A reply in the thread stays in the conversation and makes it unread for the others.
    assert bo.api.conversations_read(theirs[0]["id"])["unread"] is False
    reply = cy.api.status_post(f"@{ada.username} @{bo.username} yes", visibility="direct",
                               in_reply_to_id=first["id"])
    assert ids(bo) == [mine[0]["id"]]
    again = bo.api.conversations()[0]
    assert again["unread"] is True and again["last_status"]["id"] == reply["id"]
    # A new direct thread is a second conversation, listed first.
    other = bo.api.status_post(f"@{ada.username} separate topic", visibility="direct")
    assert ids(ada) == [other["id"], mine[0]["id"]]
    page = ada.api.conversations(limit=1)
    assert [c["id"] for c in page] == [other["id"]]
    older = ada.api.fetch_next(page)
    assert [c["id"] for c in older] == [mine[0]["id"]]

    # Taken off the list, it comes back with the next message.
    r = raw(node, "DELETE", f"/api/v1/conversations/{other['id']}", token=ada.token)
    assert r.status_code == 200 and ids(ada) == [mine[0]["id"]]
    bo.api.status_post(f"@{ada.username} still there?", visibility="direct", in_reply_to_id=other["id"])
    assert ids(ada)[0] == other["id"]
    # Someone else's, or none at all: not found.
    r = raw(node, "POST", f"/api/v1/conversations/{mine[0]['id']}/read", token=outsider.token)
    assert r.status_code == 404 and "error" in r.json()
    r = raw(node, "DELETE", "/api/v1/conversations/123456", token=ada.token)
    assert r.status_code == 404


def test_the_direct_stream_sends_the_conversation(node):
    import threading
    import time

    from mastodon import StreamListener

    class Conversations(StreamListener):
        def __init__(self) -> None:
            super().__init__()
            self.seen = []
            self.errors = []
            self.lock = threading.Lock()

        def on_conversation(self, conversation):
            with self.lock:
                self.seen.append(conversation)

        def on_abort(self, err):
            self.errors.append(err)

    ada = node.user("cs_ada")
    bo = node.user("cs_bo")
    listener = Conversations()
    handle = bo.api.stream_direct(listener, run_async=True)
    try:
        assert wait_for(lambda: handle.connection is not None or listener.errors, timeout=10)
        assert not listener.errors, listener.errors
        time.sleep(0.3)
        post = ada.api.status_post(f"@{bo.username} psst", visibility="direct")
        assert wait_for(lambda: listener.seen, timeout=10), "no conversation event"
        event = listener.seen[0]
        assert event["id"] == bo.api.conversations()[0]["id"] == post["id"]
        assert event["unread"] is True and [a["username"] for a in event["accounts"]] == ["cs_ada"]
        assert event["last_status"]["id"] == post["id"]
    finally:
        handle.close()
